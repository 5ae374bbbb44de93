"""The FAISS index over an archive's window embeddings: inner product on L2-normalised vectors, i.e. cosine.

Which kind to build (`--index-type`):

- `flat` (default): exact search, comparing the query with every vector. Nothing to tune and no training; a query
  costs time linear in the number of windows, which stays fast up to millions of windows of a small model.
- `ivf`: the vectors are clustered (k-means at build time) into 4·√N lists, but at most N/39 (FAISS's floor of 39
  vectors per list, which decides below about 24,000 windows; under 78 windows: one list, i.e. flat), and a query
  scans the `nprobe` = lists/8 nearest ones: approximate, same memory. On the README's benchmark it was faster than
  flat at 10^4 and 10^5 windows (and than hnsw at 10^4), with recall@10 against flat 0.89 and 0.98.
- `hnsw`: a navigable graph (32 links per vector, efSearch 64): approximate, with lower recall on that benchmark
  (0.80 to 0.85 at 10^4 to 10^5 windows), about twice the memory (the graph) and the slowest build; faster than
  flat, and than ivf only at 10^5 windows.
"""

from __future__ import annotations

import math

import numpy as np

INDEX_TYPES = ("flat", "ivf", "hnsw")
HNSW_LINKS = 32
HNSW_EF_SEARCH = 64  # candidates kept while searching: recall against speed
MIN_POINTS_PER_LIST = 39  # FAISS's floor for training a list's centroid


def build_faiss_index(vectors: np.ndarray, index_type: str = "flat"):
    """A FAISS inner-product index of `index_type` holding `vectors` `[N, dim]` (float32, L2-normalised), row i
    under id i; `nprobe` (ivf) and `efSearch` (hnsw) are set, and are saved with the index."""
    import faiss

    if index_type not in INDEX_TYPES:
        raise ValueError(f"index_type must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dim = vectors.shape
    if index_type == "ivf" and count:
        lists = max(1, min(round(4 * math.sqrt(count)), count // MIN_POINTS_PER_LIST))
        index = faiss.index_factory(dim, f"IVF{lists},Flat", faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(1, math.ceil(lists / 8))
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:  # flat, and an ivf of no vectors (nothing to cluster)
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


__all__ = ["INDEX_TYPES", "build_faiss_index"]
