"""Concatenates trainer view sets (views.u8 + views.json, models/training/data.py's format) into one.
Usage: /usr/bin/python3 tools/warm/merge-view-sets.py OUTDIR DIR1 DIR2 ...  (items of each set kept apart)."""
import json
import os
import shutil
import sys

out, dirs = sys.argv[1], sys.argv[2:]
os.makedirs(out, exist_ok=True)
merged = None
with open(os.path.join(out, 'views.u8'), 'wb') as u8:
    for d in dirs:
        index = json.load(open(os.path.join(d, 'views.json')))
        with open(os.path.join(d, 'views.u8'), 'rb') as f:
            shutil.copyfileobj(f, u8)
        if merged is None:
            merged = {**index, 'items': [], 'views': [], 'simulator': []}
        assert index['size'] == merged['size'] and index['layout'] == merged['layout']
        base = len(merged['items'])
        merged['items'] += index['items']
        merged['views'] += [{**v, 'item': v['item'] + base} for v in index['views']]
        merged['viewsPerItem'] = max(merged['viewsPerItem'], index['viewsPerItem'])
        merged['simulator'].append(f"{d}: {index['simulator']}")
merged['count'] = len(merged['views'])
merged['simulator'] = '; '.join(merged['simulator'])
json.dump(merged, open(os.path.join(out, 'views.json'), 'w'))
print(f"{len(merged['items'])} items, {merged['count']} views -> {out}")
