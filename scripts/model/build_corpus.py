#!/usr/bin/python3
"""build_corpus.py - build the default model's training corpus.

Usage: /usr/bin/python3 scripts/model/build_corpus.py OUTDIR

Reads freely redistributable text that Debian packages install (see
models/README.md for every package and licence) and writes one JSONL file
per domain to OUTDIR: {"t": text, "chat": 0|1}. Documents are plain text;
chat documents are ChatML exchanges. Also writes OUTDIR/heldout-sums.json,
the 100 two-digit additions that never appear in the training data.

Deterministic: a fixed seed, sorted inputs.
"""
import gzip
import json
import os
import random
import re
import subprocess
import sys
import zlib

SEED = 1234
IM_S, IM_E = "<|im_start|>", "<|im_end|>"


def chat(user, assistant):
    return (f"{IM_S}user\n{user}{IM_E}\n"
            f"{IM_S}assistant\n{assistant}{IM_E}\n")


def paragraphs(lines):
    """Group lines into paragraphs (blank-line separated), joined by
    spaces."""
    out, cur = [], []
    for ln in lines:
        ln = ln.strip()
        if not ln:
            if cur:
                out.append(" ".join(cur))
                cur = []
        else:
            cur.append(ln)
    if cur:
        out.append(" ".join(cur))
    return out


def passages(paras, target=1200):
    """Group consecutive paragraphs into passages of about target chars."""
    out, cur, n = [], [], 0
    for p in paras:
        cur.append(p)
        n += len(p)
        if n >= target:
            out.append("\n".join(cur))
            cur, n = [], 0
    if cur:
        out.append("\n".join(cur))
    return out


# --------------------------------------------------------------- prose
def rscript_text(pkg, obj):
    code = (f'data(list="{obj}", package="{pkg}"); '
            f'x <- get("{obj}"); if (is.list(x)) x <- unlist(x); '
            f'writeLines(enc2utf8(as.character(x)))')
    r = subprocess.run(["Rscript", "--vanilla", "-e", code],
                       capture_output=True, check=True)
    return r.stdout.decode("utf-8", "replace").split("\n")


def prose():
    docs = []
    books = ["sensesensibility", "prideprejudice", "mansfieldpark",
             "emma", "northangerabbey", "persuasion"]
    for b in books:
        paras = [p for p in paragraphs(rscript_text("janeaustenr", b))
                 if not re.match(r"^(CHAPTER|Chapter|VOLUME)\b", p)]
        docs += passages(paras)
    moby = rscript_text("tokenizers", "mobydick")
    moby = "\n".join(moby)
    # mobydick is one long string; split on blank lines
    paras = [p for p in paragraphs(moby.split("\n"))
             if not re.match(r"^(CHAPTER|ETYMOLOGY|EXTRACTS)\b", p)]
    docs += passages(paras)
    return docs


# --------------------------------------------------------------- bible
CANON = [
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua",
    "Judges", "Ruth", "I Samuel", "II Samuel", "I Kings", "II Kings",
    "I Chronicles", "II Chronicles", "Ezra", "Nehemiah", "Esther", "Job",
    "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon", "Isaiah",
    "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos",
    "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai",
    "Zechariah", "Malachi", "Matthew", "Mark", "Luke", "John", "Acts",
    "Romans", "I Corinthians", "II Corinthians", "Galatians", "Ephesians",
    "Philippians", "Colossians", "I Thessalonians", "II Thessalonians",
    "I Timothy", "II Timothy", "Titus", "Philemon", "Hebrews", "James",
    "I Peter", "II Peter", "I John", "II John", "III John", "Jude",
    "Revelation of John"]


def book_name(b):
    b = re.sub(r"^III ", "3 ", b)
    b = re.sub(r"^II ", "2 ", b)
    b = re.sub(r"^I ", "1 ", b)
    return {"Psalms": "Psalm", "Revelation of John": "Revelation"}.get(b, b)


def bible_verses():
    """The World English Bible's 66 canonical books, verse by verse."""
    r = subprocess.run(["mod2imp", "engWEB2015eb"], capture_output=True,
                       check=True)
    txt = r.stdout.decode("utf-8", "replace")
    canon = set(CANON)
    verses = []
    for block in txt.split("$$$")[1:]:
        head, _, body = block.partition("\n")
        m = re.match(r"(.+) (\d+):(\d+)$", head.strip())
        if not m:
            continue
        book, ch, vs = m.groups()
        if book not in canon or int(ch) == 0 or int(vs) == 0:
            continue
        body = re.sub(r"<note\b.*?</note>", "", body, flags=re.S)
        body = re.sub(r"<title\b.*?</title>", " ", body, flags=re.S)
        body = re.sub(r"<[^>]*>", "", body)
        body = re.sub(r"\s+", " ", body).strip()
        if not body:
            continue
        verses.append((book_name(book), int(ch), int(vs), body))
    return verses


def bible_docs(verses):
    """Chapters cut into passages of about 900 chars: (chapter, text)."""
    docs, cur, key = [], [], None
    for b, c, v, t in verses:
        if (b, c) != key or sum(len(x) for x in cur) > 900:
            if cur:
                docs.append((f"{key[0]} {key[1]}", " ".join(cur)))
            cur, key = [], (b, c)
            cur.append(f"{b} {c}:{v} {t}")
        else:
            cur.append(f"{v} {t}")
    if cur:
        docs.append((f"{key[0]} {key[1]}", " ".join(cur)))
    return docs


# --------------------------------------------------------------- quotes
FORTUNE_SKIP = {"ethnic", "men-women", "drugs", "politics", "sex",
                "love", "religion", "ascii-art", "art", "debian",
                "linuxcookie", "knghtbrd", "kids"}


def fortunes():
    d = "/usr/share/games/fortunes"
    docs = []
    for f in sorted(os.listdir(d)):
        p = os.path.join(d, f)
        if "." in f or f in FORTUNE_SKIP or not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8", errors="replace") as fh:
            for ent in fh.read().split("\n%\n"):
                ent = ent.strip("\n%").rstrip()
                if 20 <= len(ent) <= 1500 and "\x1b" not in ent:
                    docs.append(ent)
    return docs


# --------------------------------------------------------------- dict
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64n(s):
    n = 0
    for ch in s:
        n = n * 64 + B64.index(ch)
    return n


def dictd(name):
    base = f"/usr/share/dictd/{name}"
    with gzip.open(base + ".dict.dz", "rb") as fh:
        data = fh.read()
    out = []
    with open(base + ".index", encoding="utf-8", errors="replace") as fh:
        for ln in fh:
            parts = ln.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00database"):
                continue
            word = parts[0]
            off, ln_ = b64n(parts[1]), b64n(parts[2])
            body = data[off:off + ln_].decode("utf-8", "replace").strip()
            out.append((word, body))
    return out


def clean_entry(body):
    lines = [l.strip() for l in body.split("\n")]
    return "\n".join(l for l in lines if l)


# --------------------------------------------------------------- code
CODE_FILES = [
    ("/usr/include/sqlite3.h", None),
    ("/usr/include/zlib.h", None),
    ("/usr/include/zconf.h", None),
    ("/usr/include/lzma", ".h"),
    ("/usr/share/doc/liblzma-dev/examples", ".c"),
    ("/usr/lib/musl/include", ".h"),
    ("/usr/include/x86_64-linux-musl", ".h"),
]


def code_files():
    files = []
    for p, ext in CODE_FILES:
        if os.path.isfile(p):
            files.append(p)
        elif os.path.isdir(p):
            for root, dirs, fs in os.walk(p):
                dirs.sort()
                for f in sorted(fs):
                    if f.endswith(ext):
                        files.append(os.path.join(root, f))
    seen, out = set(), []
    for f in files:
        rp = os.path.realpath(f)
        if rp in seen:
            continue
        seen.add(rp)
        with open(rp, encoding="utf-8", errors="replace") as fh:
            out.append((f, fh.read()))
    return out


def code_chunks(files, target=1500):
    docs = []
    for name, text in files:
        lines = text.split("\n")
        cur, n = [], 0
        for ln in lines:
            cur.append(ln.rstrip())
            n += len(ln) + 1
            if n >= target and ln.strip() == "":
                docs.append((name, "\n".join(cur).strip("\n")))
                cur, n = [], 0
        if "".join(cur).strip():
            docs.append((name, "\n".join(cur).strip("\n")))
    return docs


# --------------------------------------------------------------- main
def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(SEED)
    dom = {k: [] for k in ["prose", "bible", "quotes", "dict", "code",
                           "math", "chat"]}

    def add(d, text, is_chat=0, src=None):
        # held-out split by a hash of the source text, so that a passage
        # and the chat exchange built from it land on the same side
        v = int(zlib.crc32((src or text).encode()) % 50 == 0)
        dom[d].append({"t": text, "chat": is_chat, "v": v})

    # prose
    P = prose()
    story_q = ["Tell me a story.", "Tell me a story, please.",
               "Write a passage from a novel.", "Tell me about Elizabeth.",
               "Write something in the style of Jane Austen.",
               "Tell me a sea story.", "Once upon a time...",
               "Write a paragraph of a novel.", "Tell me a tale.",
               "Narrate something."]
    for p in P:
        add("prose", p)
        if rng.random() < 0.5:
            add("prose", chat(rng.choice(story_q), p), 1, p)

    # bible
    V = bible_verses()
    for k, d in bible_docs(V):
        add("bible", d, 0, k)
    verse_q = ["Give me a Bible verse.", "Quote a verse from the Bible.",
               "Quote {ref}.", "What does {ref} say?", "Read me {ref}.",
               "Give me a verse from {book}."]
    for b, c, v, t in V:
        if rng.random() < 0.35:
            ref = f"{b} {c}:{v}"
            q = rng.choice(verse_q).format(ref=ref, book=b)
            add("bible", chat(q, f"{ref}: {t}"), 1, f"{b} {c}")

    # quotes
    F = fortunes()
    fq = ["Tell me a fortune.", "Give me a quote.", "Say something wise.",
          "Tell me a joke.", "Fortune, please.", "Give me a quotation.",
          "Cheer me up.", "Any words of wisdom?"]
    for f in F:
        add("quotes", f)
        if rng.random() < 0.5:
            add("quotes", chat(rng.choice(fq), f), 1, f)

    # dict
    dq = ['What does "{w}" mean?', "Define {w}.", "What is a {w}?",
          "Define the word {w}.", 'What is the meaning of "{w}"?',
          "{w}?"]
    for name in ["wn", "devil", "jargon"]:
        ents = dictd(name)
        for w, body in ents:
            body = clean_entry(body)
            if len(body) < 20:
                continue
            body = body[:1500]
            r = rng.random()
            if name == "wn" and r < 0.45:
                add("dict", body)
            elif name == "wn" and r < 0.75:
                add("dict", chat(rng.choice(dq).format(w=w), body), 1, body)
            elif name != "wn":
                add("dict", body)
                if r < 0.5:
                    add("dict", chat(rng.choice(dq).format(w=w), body), 1, body)

    # code
    C = code_chunks(code_files())
    cq = ["Show me some C code.", "Write some C.", "Show me a C header.",
          "Show me {f}.", "Write a C function.", "Show me C code from {f}."]
    for f, c in C:
        add("code", c)
        if rng.random() < 0.3:
            add("code", chat(rng.choice(cq).format(f=os.path.basename(f)),
                             c), 1, c)

    # math: held-out two-digit additions never appear in training
    pairs = [(a, b) for a in range(10, 100) for b in range(10, 100)]
    hr = random.Random(SEED + 1)
    held = hr.sample(pairs, 100)
    heldset = set(held)
    with open(os.path.join(out, "heldout-sums.json"), "w") as fh:
        json.dump(held, fh)
    mq = ["What is {a} + {b}?", "What is {a} plus {b}?", "{a} + {b} = ?",
          "Add {a} and {b}.", "Compute {a} + {b}.", "What's {a} + {b}?"]
    mlines = []
    for _ in range(60000):
        k = rng.random()
        if k < 0.6:
            a, b = rng.randint(10, 99), rng.randint(10, 99)
        elif k < 0.8:
            a, b = rng.randint(0, 9), rng.randint(0, 99)
        else:
            a, b = rng.randint(0, 999), rng.randint(0, 999)
        if (a, b) in heldset:
            continue
        if rng.random() < 0.55:
            q = rng.choice(mq).format(a=a, b=b)
            add("math", chat(q, f"{a} + {b} = {a + b}"), 1)
        else:
            mlines.append(f"{a} + {b} = {a + b}")
    for _ in range(15000):
        a, b = rng.randint(0, 12), rng.randint(0, 12)
        if rng.random() < 0.5:
            q = rng.choice(["What is {a} times {b}?", "{a} * {b} = ?",
                            "Multiply {a} by {b}."]).format(a=a, b=b)
            add("math", chat(q, f"{a} * {b} = {a * b}"), 1)
        else:
            mlines.append(f"{a} * {b} = {a * b}")
    for _ in range(10000):
        a = rng.randint(0, 199)
        b = rng.randint(0, a)
        mlines.append(f"{a} - {b} = {a - b}")
    rng.shuffle(mlines)
    for i in range(0, len(mlines), 12):
        add("math", "\n".join(mlines[i:i + 12]))

    # smalltalk (varied, deduplicated)
    greet = ["Hello", "Hi", "Hey", "Hello!", "Hi there", "Good morning",
             "Good evening", "Who are you?", "What are you?",
             "What can you do?", "Help", "How are you?", "Thanks",
             "Thank you!", "Bye", "Goodbye"]
    intro = ["I am a tiny mixture-of-experts model with eight experts.",
             "I am a small language model made of eight experts.",
             "I am a toy model for watching experts route tokens.",
             "I am moescope's default model, a tiny mixture of experts."]
    skills = ["I can tell stories, quote verses, tell fortunes, define "
              "words, add numbers and write C.",
              "Ask me for a story, a Bible verse, a fortune, a "
              "definition, a sum or some C code.",
              "Try a story, a verse, a quote, a word to define, a sum or "
              "C code, and watch which experts light up.",
              "My answers are often wrong; I am here to show how experts "
              "specialise."]
    reply = {"How are you?": ["I am fine, thank you.",
                              "Very well, thank you."],
             "Thanks": ["You are welcome."], "Thank you!": ["You are "
                                                            "welcome!"],
             "Bye": ["Goodbye!"], "Goodbye": ["Goodbye!", "Farewell!"]}
    seen = set()
    for g in greet:
        for i in intro:
            for s in skills:
                if g in reply:
                    r = rng.choice(reply[g])
                elif g.startswith(("Hello", "Hi", "Hey", "Good")):
                    r = f"{g.rstrip('!')}! {i} {s}"
                else:
                    r = f"{i} {s}"
                t = chat(g, r)
                if t not in seen:
                    seen.add(t)
                    add("chat", t, 1)

    for d, docs in dom.items():
        # shuffle so that the held-out prefix is a random sample
        rng.shuffle(docs)
        with open(os.path.join(out, f"{d}.jsonl"), "w") as fh:
            for x in docs:
                fh.write(json.dumps(x, ensure_ascii=False) + "\n")
        n = sum(len(x["t"]) for x in docs)
        print(f"{d:8s} {len(docs):7d} docs {n / 1e6:6.2f} M chars",
              file=sys.stderr)


if __name__ == "__main__":
    main()
