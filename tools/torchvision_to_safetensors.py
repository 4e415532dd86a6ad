#!/usr/bin/python3
"""Writes torchvision's AlexNet state_dict as a safetensors file that `bin/alexnet --arch torchvision` reads,
with nothing but torch and torchvision (Debian's python3-torchvision; the `safetensors` package is not needed).

Usage: python3 tools/torchvision_to_safetensors.py OUT.safetensors              (torchvision's ImageNet weights,
                                                                                 downloaded once to torch's cache)
       python3 tools/torchvision_to_safetensors.py OUT.safetensors --seed 1     (random init, no download)

The names are the state_dict's own (features.0.weight ... classifier.6.bias); the format is safetensors': an
8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw
little-endian float32 data in header order.
"""
import json
import os
import struct
import sys

import torch
import torchvision


def save_safetensors(state_dict, path, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, t in state_dict.items():
        data = t.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--seed"):
        sys.exit("usage: torchvision_to_safetensors.py OUT.safetensors [--seed S]")
    if len(args) == 3:
        torch.manual_seed(int(args[2]))
        model, origin = torchvision.models.alexnet(), "torchvision random init, seed " + args[2]
    else:
        model, origin = torchvision.models.alexnet(weights="DEFAULT"), "torchvision IMAGENET1K_V1"
    save_safetensors(model.state_dict(), args[0], {"format": "pt", "network": "alexnet-torchvision", "origin": origin})
    print(f"wrote {args[0]}: {len(model.state_dict())} tensors ({origin})")


if __name__ == "__main__":
    main()
