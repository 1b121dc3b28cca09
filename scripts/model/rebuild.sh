#!/bin/sh
# rebuild.sh - rebuild models/default.gguf from scratch (see models/README.md).
#
# Usage: scripts/model/rebuild.sh WORKDIR [MOESCOPE]
#
# Needs Debian 12 with the packages below (installed when run as root),
# /usr/bin/python3 (not a pyenv python: it cannot see Debian's packages)
# and a built moescope (default ./moescope). Every step has a fixed seed;
# training resumes from WORKDIR/corpus/train/ckpt.pt when interrupted.
# Writes WORKDIR/hf (the Hugging Face folder) and WORKDIR/default.gguf.
set -eu

work=${1:?usage: rebuild.sh WORKDIR [MOESCOPE]}
ms=${2:-./moescope}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
steps=${STEPS:-1300}

if [ "$(id -u)" = 0 ]; then
	apt-get install -y --no-install-recommends \
	    python3-torch python3-numpy python3-regex libopenblas0-openmp \
	    r-base-core r-cran-janeaustenr r-cran-tokenizers \
	    sword-text-web libsword-utils \
	    fortunes fortunes-min fortunes-bofh-excuses \
	    dict-wn dict-devil dict-jargon \
	    musl-dev libsqlite3-dev zlib1g-dev liblzma-dev
fi

mkdir -p "$work"
$py "$here/build_corpus.py" "$work/corpus"
$py "$here/train_tokenizer.py" "$work/corpus"
$py "$here/train.py" "$work/corpus" --steps "$steps"
$py "$here/export_hf.py" "$work/corpus" "$work/hf"
"$ms" convert "$work/hf" -o "$work/default.gguf" --type q8_0 \
    --name moescope-tiny-moe
echo "$work/default.gguf"
