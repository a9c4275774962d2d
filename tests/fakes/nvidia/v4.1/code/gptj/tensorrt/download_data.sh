# Emulated code/<benchmark>/tensorrt/download_data.sh (Makefile.data runs it per benchmark).
b=$(basename "$(dirname "$(dirname "$0")")")
mkdir -p "build/data/$b" && date -u +%FT%TZ > "build/data/$b/.downloaded" && echo "Downloaded dataset for $b"
