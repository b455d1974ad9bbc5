#!/bin/bash
# bench/soak/run.sh for 60 s inside the vcan sandbox (ctest soak_60s, label vcan): the gateway with
# the demo map and `loxcan sim`, a paced DI load, every kind of fault at least once (seeded), and
# every check of the full run. The full run: bench/soak/run.sh --seconds 600 (results.md).
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../../bench/soak/run.sh" --seconds 60 --rate "${SOAK_RATE:-0.5}" --rss-from 30 \
  --faults "broker=2,iface_del=2,iface_down=1,bad_set=24,hup_ok=1,hup_bad=1,sim=1,general=2" \
  --seed "${SOAK_SEED:-60}"
