"""What storing a large result costs: the pickle earlier versions wrote against today's gzipped JSON.

Results are written once and read on every poll, so both directions are timed, through the store's own durable
write (fsync included). Run: ``python benchmarks/persistence.py [pages]`` (default 50).
"""

from __future__ import annotations

import gzip
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from percept.portable import document_from_json, document_to_json
from percept.server.store import Operation, OperationStore

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import dense_pdf, table

from percept import read_document
from percept.config import ReadOptions
from percept.model import Document
from percept.storage import write_durably


def _best_ms(fn: Callable[[], object], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main(pages: int = 50) -> str:
    doc = read_document(dense_pdf(pages), options=ReadOptions(layout=True, workers=1), key_value_pairs=True)
    folder = Path(tempfile.mkdtemp())
    old, new = folder / "r.result.pickle", folder / "r.result.json.gz"
    rows: list[list[object]] = []
    write = _best_ms(lambda: write_durably(old, pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)))
    read = _best_ms(lambda: pickle.loads(old.read_bytes()))
    rows.append(["pickle (before)", write, read, old.stat().st_size // 1024])
    write = _best_ms(lambda: write_durably(new, gzip.compress(orjson.dumps(doc.to_dict()), compresslevel=1, mtime=0)))
    read = _best_ms(lambda: Document.from_dict(orjson.loads(gzip.decompress(new.read_bytes()))))
    rows.append(["JSON + gzip, plain calls", write, read, new.stat().st_size // 1024])
    # What the store does: the same JSON, converted with the garbage collector paused (portable.document_*_json).
    write = _best_ms(lambda: write_durably(new, gzip.compress(document_to_json(doc), compresslevel=1, mtime=0)))
    read = _best_ms(lambda: document_from_json(gzip.decompress(new.read_bytes())))
    rows.append(["JSON + gzip, as the store writes and reads it", write, read, new.stat().st_size // 1024])
    assert document_from_json(gzip.decompress(new.read_bytes())) == doc
    store = OperationStore(folder / "data", ttl_seconds=3600)
    op_id = store.create(Operation(id=store.new_id(), kind="read", model_id="prebuilt-read")).id
    store.mark_succeeded(op_id, doc)
    store.load_result(op_id)
    cached = _best_ms(lambda: store.load_result(op_id))
    rows.append(["the store's repeated read (cache, file checked)", "", cached, ""])
    store.close()
    words = sum(len(p.words) for p in doc.pages)
    header = f"### Result persistence ({pages} pages, {words} words, layout)\n\n"
    return header + table(["format", "serialize + write ms", "read + deserialize ms", "KiB"], rows)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
