// SPDX-License-Identifier: BSD-2-Clause
//
// How daedalusctl prints: aligned tables with one row per endpoint, the
// stable JSON envelope scripts read, and small number formatters.
//
// JSON (-o json) is always one object:
//   {"endpoints": [
//     {"endpoint": "a:7443", "ok": true, "exit_code": 0, "result": {...}},
//     {"endpoint": "b:7443", "ok": false, "exit_code": 3, "error": "..."}]}
// with `result` in the proto3 JSON mapping of the daedalus.v1 message
// (field names as in the .proto; 64-bit numbers as strings).

#ifndef DAEDALUS_CLI_OUTPUT_H_
#define DAEDALUS_CLI_OUTPUT_H_

#include <google/protobuf/message.h>

#include <ostream>
#include <string>
#include <vector>

#include "cli/connection.h"
#include "daedalus/v1/stats.pb.h"

namespace daedalus::cli {

std::string JsonString(const std::string& text);
std::string ToJson(const google::protobuf::Message& message);

void PrintJson(const std::vector<Result>& results, std::ostream& out);
// Header row, then each result's row (or its error), columns aligned.
void PrintTable(const std::vector<std::string>& header, const std::vector<Result>& results,
                std::ostream& out);
// Either JSON, the detail of a single endpoint, or a table; errors to
// `err` in table form. Returns the combined exit code.
int PrintResults(const Options& options, const std::vector<std::string>& header,
                 const std::vector<Result>& results, std::ostream& out, std::ostream& err);

// Estimated quantile q (0..1) of a histogram, in seconds, interpolating
// inside the bucket as Prometheus' histogram_quantile() does. NaN when
// empty.
double HistogramQuantile(const daedalus::v1::Histogram& h, double q);
std::string Millis(double seconds);  // "12.3 ms" or "-"
std::string Bytes(uint64_t bytes);   // "1.5 MiB"
std::string Age(int64_t seconds);    // "3h02m"
uint64_t ErrorSum(const daedalus::v1::DecodeCounters& c);

}  // namespace daedalus::cli

#endif  // DAEDALUS_CLI_OUTPUT_H_
