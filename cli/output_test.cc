// SPDX-License-Identifier: BSD-2-Clause
//
// daedalusctl's printing on its own: JSON escaping and the envelope
// scripts parse, table alignment, which form PrintResults picks, the
// histogram quantile and the number formatters.

#include "cli/output.h"

#include <cmath>
#include <sstream>

#include "cli/exit_codes.h"
#include "gtest/gtest.h"

namespace daedalus::cli {
namespace {

Result Row(std::string endpoint, std::vector<std::string> row, int code = 0,
           std::string error = "") {
  Result r;
  r.endpoint = std::move(endpoint);
  r.row = std::move(row);
  r.exit_code = code;
  r.error = std::move(error);
  return r;
}

TEST(OutputTest, JsonStringEscapesWhatJsonMust) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("line\nnext\tcol"), "\"line\\nnext\\tcol\"");
  EXPECT_EQ(JsonString(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(JsonString("h\xc3\xa9"), "\"h\xc3\xa9\"");  // UTF-8 passes through
}

TEST(OutputTest, JsonEnvelopeHasOneObjectPerEndpointInOrder) {
  Result good = Row("a:1", {});
  good.json = "{\"x\": 1}";
  Result bad = Row("b:2", {}, kExitDaemonDown, "not running");
  std::ostringstream out;
  PrintJson({good, bad}, out);
  EXPECT_EQ(out.str(),
            "{\"endpoints\": [\n"
            "  {\"endpoint\": \"a:1\", \"ok\": true, \"exit_code\": 0, \"result\": {\"x\": 1}},\n"
            "  {\"endpoint\": \"b:2\", \"ok\": false, \"exit_code\": 3, \"error\": \"not "
            "running\"}]}\n");
}

TEST(OutputTest, TableColumnsAlignAndErrorsTakeTheRow) {
  std::ostringstream out;
  PrintTable({"ENDPOINT", "A", "B"},
             {Row("short", {"1", "x"}), Row("a-longer-one", {"22", "y"}),
              Row("down", {}, kExitDaemonDown, "gone")},
             out);
  EXPECT_EQ(out.str(),
            "ENDPOINT      A   B\n"
            "short         1   x\n"
            "a-longer-one  22  y\n"
            "down          ERROR: gone\n");
}

TEST(OutputTest, PrintResultsPicksTheFormAndCombinesExitCodes) {
  Options table;
  Result one = Row("/run/x.sock", {"1"});
  one.detail = "detail text\n";
  std::ostringstream out, err;
  EXPECT_EQ(PrintResults(table, {"ENDPOINT", "N"}, {one}, out, err), 0);
  EXPECT_EQ(out.str(), "detail text\n");  // one endpoint: its detail
  EXPECT_EQ(err.str(), "");

  std::ostringstream out2, err2;
  EXPECT_EQ(PrintResults(table, {"ENDPOINT", "N"},
                         {Row("a", {"1"}), Row("b", {}, kExitKernelSilent, "timeout"),
                          Row("c", {}, kExitDaemonDown, "down")},
                         out2, err2),
            kExitKernelSilent);  // the first failure in endpoint order
  EXPECT_NE(out2.str().find("ENDPOINT"), std::string::npos);
  EXPECT_EQ(err2.str(), "daedalusctl: b: timeout\ndaedalusctl: c: down\n");

  Options json;
  json.output = OutputFormat::kJson;
  std::ostringstream out3, err3;
  EXPECT_EQ(PrintResults(json, {}, {Row("a", {}, kExitDenied, "no")}, out3, err3), kExitDenied);
  EXPECT_NE(out3.str().find("\"exit_code\": 6"), std::string::npos) << out3.str();
  EXPECT_EQ(err3.str(), "");  // JSON carries the error itself
}

TEST(OutputTest, HistogramQuantileInterpolatesInsideTheBucket) {
  daedalus::v1::Histogram h;
  EXPECT_TRUE(std::isnan(HistogramQuantile(h, 0.5)));
  for (double b : {0.001, 0.01, 0.1}) h.add_bounds_seconds(b);
  for (uint64_t c : {0, 10, 10}) h.add_cumulative_counts(c);
  h.set_count(10);
  // All ten in (1 ms, 10 ms]: the median halfway through.
  EXPECT_NEAR(HistogramQuantile(h, 0.5), 0.0055, 1e-12);
  EXPECT_NEAR(HistogramQuantile(h, 1.0), 0.01, 1e-12);
  h.set_count(20);  // ten more above every bound
  EXPECT_DOUBLE_EQ(HistogramQuantile(h, 0.99), 0.1);
}

TEST(OutputTest, NumberFormatters) {
  EXPECT_EQ(Millis(0.0123), "12.3 ms");
  EXPECT_EQ(Millis(std::nan("")), "-");
  EXPECT_EQ(Bytes(512), "512 B");
  EXPECT_EQ(Bytes(1536), "1.5 KiB");
  EXPECT_EQ(Bytes(3u << 20), "3.0 MiB");
  EXPECT_EQ(Age(59), "59s");
  EXPECT_EQ(Age(125), "2m05s");
  EXPECT_EQ(Age(3 * 3600 + 120), "3h02m");
  EXPECT_EQ(Age(2 * 86400 + 5 * 3600), "2d05h");
  daedalus::v1::DecodeCounters c;
  (*c.mutable_errors())["a"] = 2;
  (*c.mutable_errors())["b"] = 3;
  EXPECT_EQ(ErrorSum(c), 5u);
}

}  // namespace
}  // namespace daedalus::cli
