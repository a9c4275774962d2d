# Emulated code/<benchmark>/tensorrt/download_model.sh (Makefile.data runs it per benchmark).
b=$(basename "$(dirname "$(dirname "$0")")")
mkdir -p "build/models/$b" && date -u +%FT%TZ > "build/models/$b/.downloaded" && echo "Downloaded model for $b"
