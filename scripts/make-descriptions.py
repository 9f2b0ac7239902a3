#!/usr/bin/python3
"""Natural-language class descriptions from WordNet 3.0, the stand-in for the paper's GPT-4 descriptions.

The paper (NeurIPS version, Sec. 4 and appendix A.2, Table 4) tests Tina with prompts that describe each class in
plain words *without* naming it ("a male child or young man" for "boy"). GPT-4 is not reachable here, so this script
takes the descriptions from WordNet 3.0 glosses instead and writes

    data/descriptions/cifar100.tsv
    data/descriptions/miniimagenet.tsv

Each file starts with the header line ``class<TAB>synset_offset<TAB>description`` followed by one line per class,
in the dataset's label order:

    class          the class name as shown to users ("aquarium fish": underscores of the archive become spaces)
    synset_offset  the WordNet 3.0 noun synset used, as its 8-digit offset in data.noun (ImageNet wnid minus the "n")
    description    the synset's definition, rewritten (see below) so that it never contains the class name's words

Inputs (read directly, no nltk; Python 3 standard library only):
  * /usr/share/wordnet/{index.noun,data.noun,noun.exc}  (Debian package ``wordnet-base``, WordNet 3.0)
  * <data>/cifar-100-binary.tar.gz     member cifar-100-binary/fine_label_names.txt (one name a line)
  * <data>/mini-imagenet-32.tar.gz     member mini-imagenet-32/class_names.tsv (wnid, first lemma, all lemmas)
  where <data> is $TINA_DATA, else the first shared/data found walking up from the repository.

Sense choice
  * Mini-ImageNet: exact. A wnid n01532829 is the noun synset at offset 01532829 (the script checks that its first
    lemma is the one in class_names.tsv).
  * CIFAR-100: the first (most frequent) noun sense of the name in index.noun, unless CIFAR_OVERRIDES below says
    otherwise. Every one of the 100 classes was checked by reading all of its noun senses' glosses; the classes whose
    first sense was kept are listed in CIFAR_FIRST_SENSE_CHECKED, the others in CIFAR_OVERRIDES with the reason. A
    class in neither table stops the script (so a new or renamed class cannot slip through unreviewed).
    ``--senses NAME...`` prints every noun sense of a name with its hypernyms and gloss, to review a choice.

Definition = the WordNet gloss without its usage examples: the gloss is split at ';' and the leading segments are
kept up to (not including) the first segment that starts with a double quote (an example sentence); the kept
segments are trimmed and re-joined with '; ', and any trailing ';' is dropped.

Name-removal rule (deterministic; asserted for every output line)
  Forbidden words of a class = the lower-cased alphanumeric words of its name ("sweet pepper" -> sweet, pepper;
  "black-footed ferret" -> black, footed, ferret) plus CIFAR_EXTRA_FORBIDDEN (the five tree classes are spelled
  "maple_tree" ... "willow_tree" in the original CIFAR-100 release, so "tree" is forbidden there too).
  A token of the definition (a maximal run of letters/digits, compared case-insensitively) "contains" a forbidden
  word w when it is w, a regular plural of w (w+s, w+es, w[:-1]+ies) or an irregular plural that noun.exc maps to w
  (mice -> mouse, men -> man, women -> woman, ...). Substrings inside longer words do not count ("mouselike" is not
  "mouse", "flower" inside "sunflower" is not a whole word).
  When the definition contains a forbidden word:
    1. every such token is replaced by the neutral phrase REPLACEMENTS[w] (its singular or plural form, matching the
       token; first letter upper-cased if the token starts the definition capitalised; an "a"/"an" right before it
       is re-chosen for the phrase's first letter);
    2. if some forbidden word has no entry in REPLACEMENTS, or the result still contains a forbidden word, the
       definition of the synset's first hypernym is used instead (and so on up the hypernym chain, applying step 1
       at each level), so that the description stays true of the class, only less specific.
  The script asserts, for every line written, that the description is non-empty, has no tab or newline and
  contains none of the class's forbidden words.

Usage:
  /usr/bin/python3 scripts/make-descriptions.py                 # writes data/descriptions/*.tsv
  /usr/bin/python3 scripts/make-descriptions.py --check         # regenerates in memory, fails if files differ
  /usr/bin/python3 scripts/make-descriptions.py --senses seal   # lists the noun senses of a word

WordNet 3.0 Copyright 2006 by Princeton University (WordNet licence, BSD-like; see data.noun's header).
"""

import argparse
import os
import re
import sys
import tarfile

WORDNET_DIR = "/usr/share/wordnet"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "data", "descriptions")

# --------------------------------------------------------------------------------------------------------------------
# CIFAR-100 sense choices. Offsets are WordNet 3.0 noun offsets; the lemma is checked to belong to the synset, so a
# mistyped offset fails loudly. Each entry: class name -> (lemma that must be in the synset, offset, why).
# --------------------------------------------------------------------------------------------------------------------
CIFAR_OVERRIDES = {
    # No "aquarium fish" (nor "tropical fish") synset exists in WordNet 3.0. The goldfish is the archetypal aquarium
    # fish and part of CIFAR-100's class; its gloss is the one that says what such a fish is (rewritten by the rule).
    "aquarium fish": ("goldfish", "01443537", "no synset for the name; goldfish, 'used as pond or aquarium fishes'"),
    "beaver": ("beaver", "02363005", "1st sense is the fur; want the rodent"),
    "castle": ("castle", "02980441", "1st sense is 'a large and stately mansion' (palace); want the fortified building"),
    "cloud": ("cloud", "09247410", "1st sense is any visible particle collection (smoke, dust); want the sky's cloud"),
    "dolphin": ("dolphin", "02068974", "1st sense is the dolphinfish (mahimahi); want the toothed whale"),
    "flatfish": ("flatfish", "02657368", "1st sense is the flesh as food; want the fish"),
    "girl": ("girl", "10084295", "1st sense is 'a young woman'; want 'a youthful female person' (parallel to boy)"),
    "lamp": ("lamp", "03636649", "1st sense is any artificial light source; want the piece of furniture (CIFAR photos)"),
    "leopard": ("leopard", "02128385", "1st sense is the pelt; want the big cat"),
    "lobster": ("lobster", "01982650", "1st sense is the flesh; want the crustacean"),
    "maple": ("maple", "12752205", "1st sense is the wood; want the tree"),
    "mushroom": ("mushroom", "12997919", "1st sense is only 'common name for an edible agaric'; want the fungus with "
                                         "cap and stem, which describes the photographed object"),
    "oak": ("oak", "12268246", "1st sense is the wood; want the tree"),
    "otter": ("otter", "02444819", "1st sense is the fur; want the mammal"),
    "palm": ("palm", "12582231", "1st sense is the inner surface of the hand; want the palm tree"),
    "plate": ("plate", "03959485", "1st sense is baseball's home plate; want the dish food is eaten from"),
    "raccoon": ("raccoon", "02508021", "1st sense is the fur; want the mammal"),
    "ray": ("ray", "01495701", "1st sense is a beam of light; want the flat cartilaginous fish"),
    "seal": ("seal", "02076196", "1st sense is sealing wax; want the marine mammal (pinniped)"),
    "shrew": ("shrew", "01891633", "1st sense is a scolding woman; want the small mammal"),
    "skunk": ("skunk", "02445715", "1st sense is a despicable person; want the mammal"),
    "sweet pepper": ("sweet_pepper", "07720615", "1st sense is the plant; want the bell-shaped vegetable "
                                                 "(what the CIFAR photos show)"),
    "table": ("table", "04379243", "1st sense is a table of data; want the piece of furniture"),
    "television": ("television", "04405907", "1st sense is broadcasting; want the television set (receiver)"),
    "tiger": ("tiger", "02129604", "1st sense is a fierce person; want the big cat"),
    "trout": ("trout", "02537085", "1st sense is the flesh; want the fish"),
    "turtle": ("turtle", "01662784", "1st sense is a turtleneck sweater; want the reptile"),
    "whale": ("whale", "02062744", "1st sense is a very large person; want the cetacean"),
}

# Classes whose first noun sense was read and kept (its gloss is the object CIFAR-100 photographs). Notes where
# the choice is not obvious.
CIFAR_FIRST_SENSE_CHECKED = {
    "apple",        # the fruit (2nd: the tree)
    "baby",         # a very young child
    "bear",         # the mammal (2nd: a pessimistic investor)
    "bed",          # the piece of furniture to sleep on
    "bee", "beetle", "butterfly", "caterpillar", "cockroach",   # the insects / larva (not mallet, swimming stroke)
    "bicycle", "bottle", "bowl", "bus", "motorcycle", "streetcar", "skyscraper",
    "boy",          # a youthful male person
    "bridge",       # the structure crossing an obstacle
    "camel", "cattle", "chimpanzee", "elephant", "hamster", "kangaroo", "porcupine", "rabbit", "squirrel", "wolf",
    "fox",          # the mammal
    "lion",         # the big cat (not a celebrity, not Leo)
    "possum",       # the American opossum (2nd: the Australian phalanger); both are "possum" photos
    "mouse",        # the rodent (4th sense is the computer device)
    "can",          # the tin can (not a buttocks/toilet slang sense)
    "chair", "clock", "couch", "cup", "house", "telephone", "wardrobe",
    "crab",         # the decapod crustacean (not the grouch, the zodiac sign or the crab louse)
    "crocodile", "dinosaur", "lizard", "snake", "snail", "spider", "worm", "shark",
    "forest",       # 'the trees and other plants in a large densely wooded area' (2nd: land covered with trees)
    "keyboard",     # the set of keys (piano, typewriter, computer); 2nd is a key holder
    "lawn mower",
    "man",          # an adult male person
    "woman",        # an adult female person
    "mountain",     # the landform (2nd: a large quantity)
    "orange",       # the fruit (not the colour, the tree, the river)
    "orchid", "poppy", "tulip", "sunflower",
    "rose",         # the rose bush (WordNet has no separate flower sense); not the wine or the colour
    "pear",         # the fruit
    "pickup truck",
    "pine",         # 'a coniferous tree' (2nd: the timber)
    "willow",       # the tree (2nd: a textile machine)
    "plain",        # the landform: extensive tract of level open land (2nd: a knitting stitch)
    "road",
    "rocket",       # the vehicle (not the engine, the salad herb, the firework)
    "sea",          # the body of water
    "tank",         # the armored military vehicle on caterpillar treads (2nd: a storage tank)
    "tractor",      # the farm vehicle (2nd: the truck cab pulling trailers)
    "train",        # the railway train
}

# The original CIFAR-100 spelling of these classes is "<name>_tree"; keep "tree" out of their descriptions as well.
CIFAR_EXTRA_FORBIDDEN = {name: ("tree",) for name in ("maple", "oak", "palm", "pine", "willow")}

# --------------------------------------------------------------------------------------------------------------------
# Neutral phrases used by the name-removal rule: forbidden word -> (replacement for the singular, for the plural).
# --------------------------------------------------------------------------------------------------------------------
# A word missing here sends its classes to the hypernym fallback (step 2), which is fine where the hypernym's gloss
# still says what the object is (e.g. "green mamba", "miniature poodle", "frying pan", "three-toed sloth"). Each
# entry was chosen for the glosses it appears in, listed in the comment (CIFAR-100 first, then Mini-ImageNet).
REPLACEMENTS = {
    # CIFAR-100
    "tree": ("woody plant", "woody plants"),            # maple, oak, pine, willow
    "orange": ("reddish-yellow", "reddish-yellow"),     # orange: "round yellow to orange fruit" (the colour)
    "fish": ("aquatic animal", "aquatic animals"),      # aquarium fish (goldfish: "... used as pond or aquarium fishes")
    "aquarium": ("glass tank", "glass tanks"),          # aquarium fish
    "lawn": ("grassy yard", "grassy yards"),            # lawn mower: "garden tool for mowing grass on lawns"
    "orchid": ("Orchidaceae", "Orchidaceae"),           # orchid: "plants of the orchid family" (its Latin name)
    "truck": ("motor vehicle", "motor vehicles"),       # pickup truck; garbage truck
    "rocket": ("propellant-carrying", "propellant-carrying"),  # rocket: "self-propelled by a rocket engine"
    "rose": ("flower", "flowers"),                      # rose: "shrubs of the genus Rosa that bear roses"
    "pepper": ("fruit", "fruits"),                      # sweet pepper: "thick-walled capsicum peppers"
    "television": ("broadcast", "broadcasts"),          # television: "receives television signals"
    # Mini-ImageNet
    "finch": ("songbird", "songbirds"),                 # house finch
    "crab": ("crustacean", "crustaceans"),              # king crab
    "hound": ("hunting dog", "hunting dogs"),           # Ibizan hound
    "golden": ("gold-colored", "gold-colored"),         # golden retriever: "a long silky golden coat"
    "newfoundland": ("eastern Canada", "eastern Canada"),  # Newfoundland: "developed in Newfoundland"
    "white": ("pale", "pale"),                          # white wolf: "having white fur"
    "wolf": ("wild canine", "wild canines"),            # white wolf
    "arctic": ("polar", "polar"),                       # Arctic fox: "fox of Arctic regions"
    "fox": ("wild canine", "wild canines"),             # Arctic fox
    "beetle": ("insect", "insects"),                    # rhinoceros beetle
    "lock": ("fastener", "fasteners"),                  # combination lock
    "guitar": ("stringed instrument", "stringed instruments"),  # electric guitar
    "hair": ("tresses", "tresses"),                     # hair slide: "clip that girls and women put in their hair"
    "horizontal": ("level", "level"),                   # horizontal bar
    "bar": ("rod", "rods"),                             # horizontal bar
    "parallel": ("side-by-side", "side-by-side"),       # parallel bars
    "bowl": ("deep dish", "deep dishes"),               # mixing bowl: "bowl used with an electric mixer"
    "box": ("container", "containers"),                 # pencil box: "a box for holding pencils"
    "pencil": ("writing implement", "writing implements"),  # pencil box
    "rug": ("floor covering", "floor coverings"),       # prayer rug
    "bus": ("passenger vehicle", "passenger vehicles"),  # school bus
    "school": ("lessons", "lessons"),                   # school bus: "transport children to or from school"
    "slot": ("coin-operated", "coin-operated"),         # slot: "a slot machine that is used for gambling"
    "web": ("silken net", "silken nets"),               # spider web: "a web resembling the webs spun by spiders"
    "spider": ("arachnid", "arachnids"),                # spider web
    "roof": ("covering on top of a building", "coverings on top of buildings"),  # tile roof
    "tile": ("slab", "slabs"),                          # tile roof: "made of fired clay tiles"
    "shop": ("store", "stores"),                        # tobacco shop
    "tobacco": ("smoking mixture", "smoking mixtures"),  # tobacco shop: "sells pipes and pipe tobacco and cigars"
    "fence": ("barrier", "barriers"),                   # worm fence
    "sign": ("posted notice", "posted notices"),        # street sign: "a sign visible from the street"
    "street": ("road", "roads"),                        # street sign
    "reef": ("submerged ridge", "submerged ridges"),    # coral reef: "a reef consisting of coral ..."
    "coral": ("polyp skeletons", "polyp skeletons"),    # coral reef
}


# ---------------------------------------------------------------------------------------------------- WordNet reader
class Synset:
    def __init__(self, offset, lemmas, hypernyms, gloss):
        self.offset = offset          # 8-digit string
        self.lemmas = lemmas          # words with '_' for spaces, as in data.noun (lex_id dropped)
        self.hypernyms = hypernyms    # offsets of '@' (hypernym) and '@i' (instance hypernym) pointers, in order
        self.gloss = gloss


class WordNet:
    """Reads the WordNet 3.0 noun database files directly (format: wndb(5WN))."""

    def __init__(self, directory=WORDNET_DIR):
        self.directory = directory
        for f in ("index.noun", "data.noun", "noun.exc"):
            if not os.path.isfile(os.path.join(directory, f)):
                sys.exit(f"make-descriptions: {directory}/{f} not found; install WordNet 3.0: "
                         "apt-get install wordnet-base")
        # index.noun: lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
        # (offsets in sense order, most frequent first). The licence header lines start with two spaces.
        self.index = {}
        with open(os.path.join(directory, "index.noun"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split()
                lemma, synset_cnt, p_cnt = fields[0], int(fields[2]), int(fields[3])
                offsets = fields[4 + p_cnt + 2:]
                assert len(offsets) == synset_cnt, line
                self.index[lemma] = offsets
        with open(os.path.join(directory, "data.noun"), "rb") as f:
            self._data = f.read()        # byte offsets of synsets are their ids
        # noun.exc: "inflected_form base_form..." (irregular plurals)
        self.irregular_plurals = {}
        with open(os.path.join(directory, "noun.exc"), encoding="latin-1") as f:
            for line in f:
                fields = line.split()
                for base in fields[1:]:
                    self.irregular_plurals.setdefault(base, set()).add(fields[0])
        self._cache = {}

    def senses(self, lemma):
        """Noun synset offsets of a lemma ('_' or ' ' between words, any case), most frequent sense first."""
        return list(self.index.get(lemma.strip().lower().replace(" ", "_"), []))

    def synset(self, offset):
        """The noun synset at an 8-digit offset: synset_offset lex_filenum ss_type w_cnt word lex_id ... p_cnt
        [ptr_symbol offset pos source/target]... | gloss"""
        if offset in self._cache:
            return self._cache[offset]
        start = int(offset)
        end = self._data.find(b"\n", start)
        line = self._data[start:end].decode("latin-1")
        if not line.startswith(offset + " "):
            raise KeyError(f"no noun synset at offset {offset}")
        head, _, gloss = line.partition(" | ")
        fields = head.split()
        w_cnt = int(fields[3], 16)
        lemmas = [fields[4 + 2 * k] for k in range(w_cnt)]
        at = 4 + 2 * w_cnt
        p_cnt = int(fields[at])
        hypernyms = []
        for k in range(p_cnt):
            symbol, target, pos = fields[at + 1 + 4 * k], fields[at + 2 + 4 * k], fields[at + 3 + 4 * k]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append(target)
        synset = Synset(offset, lemmas, hypernyms, gloss.strip())
        self._cache[offset] = synset
        return synset


def definition(gloss):
    """The gloss without its example sentences (see the module docstring)."""
    kept = []
    for segment in gloss.split(";"):
        segment = segment.strip()
        if segment.startswith('"'):
            break
        if segment:
            kept.append(segment)
    return "; ".join(kept).strip().rstrip(";").strip()


# ------------------------------------------------------------------------------------------------ name removal rule
TOKEN = re.compile(r"[A-Za-z0-9]+")


def name_words(name):
    return [w.lower() for w in TOKEN.findall(name)]


def word_forms(word, wordnet):
    """word -> {form: is_plural} for the forms that count as the word (see the module docstring)."""
    forms = {word: False, word + "s": True, word + "es": True}
    if word.endswith("y"):
        forms[word[:-1] + "ies"] = True
    for plural in wordnet.irregular_plurals.get(word, ()):
        forms[plural] = True
    return forms


def forbidden_forms(words, wordnet):
    """{form: (word, is_plural)} over all forbidden words."""
    result = {}
    for w in words:
        for form, plural in word_forms(w, wordnet).items():
            result.setdefault(form, (w, plural))
    return result


def offending(text, forms):
    return sorted({forms[t.lower()][0] for t in TOKEN.findall(text) if t.lower() in forms})


def replace_words(text, forms):
    """Step 1 of the rule; returns None if a forbidden word has no replacement."""
    if any(w not in REPLACEMENTS for w in offending(text, forms)):
        return None
    out, last = [], 0
    for match in TOKEN.finditer(text):
        token = match.group(0)
        if token.lower() not in forms:
            continue
        word, plural = forms[token.lower()]
        phrase = REPLACEMENTS[word][1 if plural else 0]
        if match.start() == 0 and token[0].isupper():
            phrase = phrase[0].upper() + phrase[1:]
        before = text[last:match.start()]
        article = re.search(r"(?<![A-Za-z0-9])([Aa]n?) $", before)     # "a lock" -> "an iron ..." if needed
        if article:
            wanted = "an" if phrase[0].lower() in "aeiou" else "a"
            if article.group(1)[0] == "A":
                wanted = wanted.capitalize()
            before = before[:article.start(1)] + wanted + " "
        out.append(before)
        out.append(phrase)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def describe(wordnet, synset, words):
    """(description, how) for a synset under the name-removal rule."""
    forms = forbidden_forms(words, wordnet)
    current, steps = synset, []
    while True:
        text = definition(current.gloss)
        if not offending(text, forms):
            return text, ("gloss" if not steps else "hypernym " + "/".join(steps))
        replaced = replace_words(text, forms)
        if replaced is not None and not offending(replaced, forms):
            return replaced, ("gloss, words replaced" if not steps else "hypernym " + "/".join(steps) + ", replaced")
        if not current.hypernyms:
            raise SystemExit(f"make-descriptions: no clean description for {synset.offset} {synset.lemmas}")
        current = wordnet.synset(current.hypernyms[0])
        steps.append(current.lemmas[0])


def check_line(name, offset, description, words, wordnet):
    assert description, f"{name}: empty description"
    assert "\t" not in description and "\n" not in description, f"{name}: tab or newline in description"
    assert "\t" not in name and name == name.strip() and name, f"bad class name {name!r}"
    assert re.fullmatch(r"[0-9]{8}", offset), f"{name}: bad offset {offset}"
    tokens = {t.lower() for t in TOKEN.findall(description)}
    for w in words:
        assert w not in tokens, f"{name}: description contains the class word {w!r}: {description}"
    found = offending(description, forbidden_forms(words, wordnet))     # the word or one of its plurals
    assert not found, f"{name}: description contains a form of {found}: {description}"


# ------------------------------------------------------------------------------------------------------- datasets
def find_data_dir():
    env = os.environ.get("TINA_DATA")
    if env:
        return env
    d = REPO
    while True:
        candidate = os.path.join(d, "shared", "data")
        if os.path.isfile(os.path.join(candidate, "cifar-100-binary.tar.gz")):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            sys.exit("make-descriptions: dataset archives not found; set TINA_DATA to the folder holding "
                     "cifar-100-binary.tar.gz and mini-imagenet-32.tar.gz")
        d = parent


def read_member(archive, member):
    with tarfile.open(archive, "r:gz") as tar:
        f = tar.extractfile(member)
        if f is None:
            sys.exit(f"make-descriptions: {member} not found in {archive}")
        return f.read().decode("utf-8")


def cifar100_rows(wordnet, data_dir):
    text = read_member(os.path.join(data_dir, "cifar-100-binary.tar.gz"), "cifar-100-binary/fine_label_names.txt")
    names = [line.strip().replace("_", " ") for line in text.splitlines() if line.strip()]
    assert len(names) == 100 and len(set(names)) == 100, f"expected 100 distinct CIFAR-100 names, got {len(names)}"
    both = set(CIFAR_OVERRIDES) & CIFAR_FIRST_SENSE_CHECKED
    assert not both, f"in both sense tables: {sorted(both)}"
    unknown = (set(CIFAR_OVERRIDES) | CIFAR_FIRST_SENSE_CHECKED) - set(names)
    assert not unknown, f"sense tables name classes that are not in CIFAR-100: {sorted(unknown)}"
    rows = []
    for name in names:
        if name in CIFAR_OVERRIDES:
            lemma, offset, _ = CIFAR_OVERRIDES[name]
            synset = wordnet.synset(offset)
            assert lemma.lower() in (l.lower() for l in synset.lemmas), \
                f"override for {name}: lemma {lemma} not in synset {offset} {synset.lemmas}"
        elif name in CIFAR_FIRST_SENSE_CHECKED:
            senses = wordnet.senses(name)
            assert senses, f"{name}: not a WordNet noun; add it to CIFAR_OVERRIDES"
            synset = wordnet.synset(senses[0])
        else:
            raise SystemExit(f"make-descriptions: CIFAR-100 class {name!r} has no reviewed sense: read "
                             f"'--senses {name}' and add it to CIFAR_FIRST_SENSE_CHECKED or CIFAR_OVERRIDES")
        words = name_words(name) + list(CIFAR_EXTRA_FORBIDDEN.get(name, ()))
        description, how = describe(wordnet, synset, words)
        rows.append((name, synset.offset, description, words, how))
    return rows


def miniimagenet_rows(wordnet, data_dir):
    text = read_member(os.path.join(data_dir, "mini-imagenet-32.tar.gz"), "mini-imagenet-32/class_names.tsv")
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        wnid, first, _ = line.split("\t")
        assert re.fullmatch(r"n[0-9]{8}", wnid), f"bad wnid {wnid}"
        synset = wordnet.synset(wnid[1:])
        assert synset.lemmas[0].replace("_", " ") == first, f"{wnid}: first lemma {synset.lemmas[0]} != {first}"
        name = first.replace("_", " ")
        words = name_words(name)
        description, how = describe(wordnet, synset, words)
        rows.append((name, synset.offset, description, words, how))
    assert len(rows) == 100 and len({r[0].lower() for r in rows}) == 100, "expected 100 distinct Mini-ImageNet names"
    return rows


def render(rows, wordnet):
    lines = ["class\tsynset_offset\tdescription"]
    for name, offset, description, words, _ in rows:
        check_line(name, offset, description, words, wordnet)
        lines.append(f"{name}\t{offset}\t{description}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ from the output")
    parser.add_argument("--verbose", action="store_true", help="print how each description was obtained")
    parser.add_argument("--senses", nargs="+", metavar="NAME", help="list the noun senses of NAME and exit")
    args = parser.parse_args()
    wordnet = WordNet()

    if args.senses:
        for name in args.senses:
            print(f"== {name}")
            for rank, offset in enumerate(wordnet.senses(name), 1):
                s = wordnet.synset(offset)
                hyper = ",".join(wordnet.synset(h).lemmas[0] for h in s.hypernyms)
                print(f"  {rank} {offset} {','.join(s.lemmas)} [{hyper}] | {definition(s.gloss)}")
        return

    data_dir = find_data_dir()
    outputs = {"cifar100.tsv": cifar100_rows(wordnet, data_dir), "miniimagenet.tsv": miniimagenet_rows(wordnet, data_dir)}
    failed = False
    for file, rows in outputs.items():
        content = render(rows, wordnet)
        path = os.path.join(OUT_DIR, file)
        if args.verbose:
            for name, offset, description, _, how in rows:
                print(f"{file}\t{name}\t{offset}\t{how}\t{description}")
        if args.check:
            with open(path, encoding="utf-8") as f:
                if f.read() != content:
                    print(f"make-descriptions: {path} is out of date", file=sys.stderr)
                    failed = True
        else:
            os.makedirs(OUT_DIR, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(content)
            print(f"wrote {path} ({len(rows)} classes)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
