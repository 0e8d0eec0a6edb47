#!/usr/bin/env bash
# The device check under its older name: see benchmarks/device_check.sh.
exec bash "$(dirname "$0")/device_check.sh" "$@"
