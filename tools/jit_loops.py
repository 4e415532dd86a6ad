#!/usr/bin/env python3
"""Innermost FMA loops of C2-compiled methods, from a HotSpot code dump without hsdis.

Without the hsdis plugin, -XX:CompileCommand=print,<method> prints each nmethod's machine code as hex.
This script cuts the dump into nmethods, disassembles each with objdump, and for every loop (a backward
jump) holding vector FMAs prints: FMAs, zmm moves to/from the stack (spilled accumulators), and
instructions, smallest loops first. It is how ConvTiles' loop shapes were checked (bench/RESULTS.md, "Why the kernels look the way they do").

  java ... -XX:+UnlockDiagnosticVMOptions '-XX:CompileCommand=print,dev.alexnet.kernels.vec.ConvTiles::*' \
       ... > dump.txt
  python3 tools/jit_loops.py dump.txt [OUTDIR]      # OUTDIR (default: a temporary one) keeps nmN.s listings
  JIT_LOOPS_ALL=1 python3 tools/jit_loops.py ...     # also vector loops without FMAs
"""
import os
import re
import subprocess
import sys
import tempfile

INS = re.compile(r'\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(\S+)\s*(.*)')


def nmethods(text):
    for block in re.split(r'(?=Compiled method \(c2\))', text)[1:]:
        head = block.splitlines()[0]
        m = re.search(r'\[MachCode\](.*?)\[/MachCode\]', block, re.S)
        if not m:
            continue
        code = {}
        for line in m.group(1).splitlines():
            mm = re.match(r'\s*0x([0-9a-f]+): ((?:[0-9a-f]{2,8} ?\|? ?)+)$', line.strip())
            if mm:
                code[int(mm.group(1), 16)] = bytes.fromhex(mm.group(2).replace('|', '').replace(' ', ''))
        if not code:
            continue
        start, data = min(code), bytearray()
        for a in sorted(code):
            if a != start + len(data):  # e.g. a section the dump did not print in full
                print(f'skipped {head.strip()}: gap in the dump at {a:#x}', file=sys.stderr)
                break
            data += code[a]
        else:
            yield head, start, bytes(data)


ALL = os.environ.get('JIT_LOOPS_ALL') == '1'  # also loops with zmm code but no FMA (copies, max, ...)


def main():
    out = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix='jit-loops-')
    os.makedirs(out, exist_ok=True)
    for n, (head, start, data) in enumerate(nmethods(open(sys.argv[1]).read())):
        binf = os.path.join(out, f'nm{n}.bin')
        open(binf, 'wb').write(data)
        asm = subprocess.run(['objdump', '-D', '-b', 'binary', '-m', 'i386:x86-64', f'--adjust-vma={start:#x}', binf],
                             capture_output=True, text=True, check=True).stdout
        open(os.path.join(out, f'nm{n}.s'), 'w').write(head + '\n' + asm)
        ins = [(int(m.group(1), 16), m.group(2), m.group(3)) for m in map(INS.match, asm.splitlines()) if m]
        loops = set()
        for a, op, arg in ins:
            t = re.match(r'0x([0-9a-f]+)', arg) if op.startswith('j') else None
            if t and int(t.group(1), 16) <= a:
                body = [x for x in ins if int(t.group(1), 16) <= x[0] <= a]
                fma = sum(1 for x in body if x[1].startswith('vfmadd'))
                spill = sum(1 for x in body if x[1].startswith('vmov') and '(%rsp)' in x[2] and '%zmm' in x[2])
                if fma or (ALL and any('zmm' in x[2] for x in body)):
                    loops.add((len(body), fma, spill))
        name = head.split('(c2)')[1].strip()
        shown = ', '.join(f'{f} FMAs/{s} stack moves/{i} instrs' for i, f, s in sorted(loops)[:3])
        print(f'nm{n}: {name} [{len(data)} bytes]\n    {shown or "no FMA loop"}')
    print(f'listings in {out}')


if __name__ == '__main__':
    main()
