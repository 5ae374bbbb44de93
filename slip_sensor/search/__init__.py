"""Search a recording archive in SLIP's contrastive space: `slip index`, `slip search` and `SlipIndex`.

| concept | module |
|---|---|
| the recordings of a folder, dataset or corpus | `sources` |
| per-recording shards of window embeddings | `shards` |
| the FAISS index (flat, ivf, hnsw) | `vector_index` |
| `SlipIndex` (build, load, search) and `SearchHit` | `slip_index` |
| the picture of hits | `hits_plot` |
| a hit's clock time, as every view shows it | `timestamps` |
| the commands | `index_cli`, `search_cli` |

The names below are imported on first access, so importing the package loads neither torch nor FAISS.
"""

from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {".slip_index": ("SearchHit", "SlipIndex")})
