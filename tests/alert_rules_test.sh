#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The fleet's alerting rules (docs/monitoring/alerts.yml) with Debian's
# promtool: they parse, and each alert fires, or stays quiet, on the
# series of docs/monitoring/alerts_test.yml as that file expects.
#   usage: alert_rules_test.sh ALERTS_YML ALERTS_TEST_YML
set -euo pipefail
rules=$1 tests=$2
command -v promtool >/dev/null || { echo "FAIL promtool not found (apt-get install prometheus)"; exit 1; }
promtool check rules "$rules"
promtool test rules "$tests"
