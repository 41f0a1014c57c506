#!/usr/bin/env python3
"""Per-crate size of an unstripped release binary, from its symbol table (`nm -S`, demangled):
each defined function's and data object's size goes to a crate. Generic code goes to the first
crate its name mentions that is not the standard library's (`core::ptr::drop_in_place<
aws_sdk_ec2::X>` is aws-sdk-ec2's, `<a::B as c::D>::f` is a's). What no symbol covers (section
headers, relocations, unwind tables, strings not behind a symbol) is one line. With LTO, code
inlined into another crate's function counts for that function's crate.

usage: size-by-crate.py BINARY [TOP]   (TOP lines, default 25)"""
import re
import subprocess
import sys
from collections import Counter

binary = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
out = subprocess.run(["nm", "--demangle", "--print-size", "--size-sort", "--defined-only", binary],
                     check=True, capture_output=True, text=True).stdout
STD = {"core", "alloc", "std", "impl"}
# Symbol prefixes of the C libraries linked in statically.
C_LIBS = [("aws_lc_", "aws-lc (C)"), ("sqlite3", "SQLite (C)"), ("git_", "libgit2 (C)"), ("ring_core_", "ring (C, asm)"),
          ("http_parser", "libgit2 (C)"), ("xdl_", "libgit2 (C)"), ("ZSTD_", "zstd (C)"), ("deflate", "zlib (C)"), ("inflate", "zlib (C)")]
sizes = Counter()
for line in out.splitlines():
    parts = line.split(" ", 3)
    if len(parts) < 4:
        continue
    size, kind, name = int(parts[1], 16), parts[2], parts[3]
    if kind.lower() not in "tdrb":
        continue
    # The first crate named that is not the standard library's: `core::ptr::drop_in_place<
    # aws_sdk_ec2::X>` is aws-sdk-ec2's code (monomorphized for it), `<a::B as c::D>::f` is a's.
    crates = re.findall(r"(?<![A-Za-z0-9_:])([A-Za-z_][A-Za-z0-9_]*)::", name)
    if not crates:
        crate = next((lib for prefix, lib in C_LIBS if name.startswith(prefix)), "(other C and C++)")
    else:
        crate = next((c for c in crates if c not in STD), crates[0])
    sizes[crate] += size
total_file = int(subprocess.run(["stat", "-c", "%s", binary], check=True, capture_output=True, text=True).stdout)
named = sum(sizes.values())
print(f"{'crate':<48} {'MB':>7} {'share':>6}")
for crate, size in sizes.most_common(top):
    print(f"{crate:<48} {size / 1e6:>7.2f} {100 * size / total_file:>5.1f}%")
rest = sizes.most_common()[top:]
if rest:
    print(f"{f'({len(rest)} more crates)':<48} {sum(s for _, s in rest) / 1e6:>7.2f} {100 * sum(s for _, s in rest) / total_file:>5.1f}%")
print(f"{'(not behind a symbol)':<48} {(total_file - named) / 1e6:>7.2f} {100 * (total_file - named) / total_file:>5.1f}%  of {total_file / 1e6:.2f} MB unstripped")
