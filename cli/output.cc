// SPDX-License-Identifier: BSD-2-Clause

#include "cli/output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace daedalus::cli {

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void PrintJson(const std::vector<Result>& results, std::ostream& out) {
  std::vector<std::string> rows;
  for (const Result& r : results) {
    std::string row =
        absl::StrFormat("{\"endpoint\": %s, \"ok\": %s, \"exit_code\": %d", JsonString(r.endpoint),
                        r.exit_code == 0 ? "true" : "false", r.exit_code);
    if (!r.error.empty()) row += ", \"error\": " + JsonString(r.error);
    if (!r.json.empty()) row += ", \"result\": " + r.json;
    rows.push_back(row + "}");
  }
  out << "{\"endpoints\": [\n  " << absl::StrJoin(rows, ",\n  ") << "]}\n";
}

void PrintTable(const std::vector<std::string>& header, const std::vector<Result>& results,
                std::ostream& out) {
  std::vector<std::vector<std::string>> lines = {header};
  for (const Result& r : results) {
    std::vector<std::string> line = {r.endpoint};
    if (r.row.empty() && !r.error.empty()) {
      line.push_back("ERROR: " + r.error);
    } else {
      line.insert(line.end(), r.row.begin(), r.row.end());
    }
    lines.push_back(line);
  }
  std::vector<size_t> width;
  for (const auto& line : lines) {
    for (size_t i = 0; i + 1 < line.size(); i++) {  // the last column is not padded
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], line[i].size());
    }
  }
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); i++) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << text << "\n";
  }
}

int PrintResults(const Options& options, const std::vector<std::string>& header,
                 const std::vector<Result>& results, std::ostream& out, std::ostream& err) {
  if (options.output == OutputFormat::kJson) {
    PrintJson(results, out);
  } else if (results.size() == 1 && !results[0].detail.empty()) {
    out << results[0].detail;
    if (!results[0].error.empty()) err << "daedalusctl: " << results[0].error << "\n";
  } else if (results.size() == 1 && results[0].row.empty()) {
    err << "daedalusctl: " << results[0].error << "\n";
  } else {
    PrintTable(header, results, out);
    for (const Result& r : results) {
      if (!r.error.empty()) err << "daedalusctl: " << r.endpoint << ": " << r.error << "\n";
    }
  }
  return CombinedExitCode(results);
}

double HistogramQuantile(const daedalus::v1::Histogram& h, double q) {
  if (h.count() == 0) return std::numeric_limits<double>::quiet_NaN();
  double rank = q * static_cast<double>(h.count());
  double lower_bound = 0, lower_count = 0;
  for (int i = 0; i < h.bounds_seconds_size(); i++) {
    double upper = h.bounds_seconds(i);
    double cumulative = static_cast<double>(h.cumulative_counts(i));
    if (cumulative >= rank) {
      double in_bucket = cumulative - lower_count;
      if (in_bucket <= 0) return upper;
      return lower_bound + (upper - lower_bound) * (rank - lower_count) / in_bucket;
    }
    lower_bound = upper;
    lower_count = cumulative;
  }
  return lower_bound;  // above the last bound: report the last bound
}

std::string Millis(double seconds) {
  if (std::isnan(seconds)) return "-";
  return absl::StrFormat("%.1f ms", seconds * 1000);
}

std::string Bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  return u == 0 ? absl::StrFormat("%d B", bytes) : absl::StrFormat("%.1f %s", v, units[u]);
}

std::string Age(int64_t s) {
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

uint64_t ErrorSum(const daedalus::v1::DecodeCounters& c) {
  uint64_t n = 0;
  for (const auto& [reason, count] : c.errors()) n += count;
  return n;
}

}  // namespace daedalus::cli
