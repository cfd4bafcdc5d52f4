#!/usr/bin/env python3
"""Prints hyperfine's JSON export as a Markdown table (medians first), ready for the README.

table.py RESULTS.json [TITLE]
"""
import json
import sys

results = json.load(open(sys.argv[1]))["results"]
if len(sys.argv) > 2:
    print(f"**{sys.argv[2]}**\n")
print("| command | median | min | max | user+sys (mean) | runs |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for r in results:
    print(f"| {r['command']} | {r['median']:.3f} s | {r['min']:.3f} s | {r['max']:.3f} s "
          f"| {r['user'] + r['system']:.3f} s | {len(r['times'])} |")
