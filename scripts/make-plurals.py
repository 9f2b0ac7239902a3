#!/usr/bin/env python3
"""Writes data/prompts/cifar100-plurals.tsv: every CIFAR-100 class name in the plural (simple English rules plus a
few irregular nouns), the class-name variant measured by `tina eval --class-texts` (docs/RESULTS.md)."""
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
names = [line.split("\t")[0] for line in (root / "data/descriptions/cifar100.tsv").read_text().splitlines()[1:] if line.strip()]
irregular = {"man": "men", "woman": "women", "mouse": "mice", "fish": "fish", "shrew": "shrews", "leaf": "leaves",
             "wolf": "wolves", "baby": "babies", "butterfly": "butterflies", "lily": "lilies", "sweet pepper": "sweet peppers",
             "trout": "trout", "aquarium fish": "aquarium fish", "flatfish": "flatfish", "boy": "boys", "girl": "girls"}

def plural(name: str) -> str:
    if name in irregular:
        return irregular[name]
    head, _, last = name.rpartition(" ")
    if last.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    elif last.endswith("f"):
        word = last[:-1] + "ves"
    else:
        word = last + "s"
    return (head + " " if head else "") + word

lines = ["# class\tplural (scripts/make-plurals.py)"] + [f"{n}\t{plural(n)}" for n in names]
(root / "data/prompts").mkdir(exist_ok=True)
(root / "data/prompts/cifar100-plurals.tsv").write_text("\n".join(lines) + "\n")
print(f"wrote {len(names)} plurals")
