"""`slip index SOURCE --out INDEX`: embed every window of every recording of an archive into a searchable index.

SOURCE is a folder of recording files (recursively), a `datasets` dataset (a `save_to_disk` folder, parquet/CSV
file(s) with `--sensor-column`, or a Hub id) or a SLIP corpus. Re-running on a grown or changed archive embeds only the
new and changed recordings; a killed run resumes where it stopped. Under `accelerate launch --num_processes N` the
recordings are split between the processes (see `slip_index`).
"""

import argparse

from slip_sensor.recording_cli import add_window_options

from .vector_index import INDEX_TYPES

HELP = "Index the windows of a folder of recordings, a dataset or a corpus for `slip search` (incremental, resumable)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE",
                        help="folder of recording files (.csv/.tsv/.txt, .parquet, .npy, .npz, WFDB .hea; searched "
                             "recursively), a recording file, a dataset (save_to_disk folder, parquet/CSV with "
                             "--sensor-column, or a Hub id) or a SLIP corpus folder")
    parser.add_argument("--out", required=True, metavar="INDEX", help="index folder: created, or brought up to date")
    add_window_options(parser)
    parser.add_argument("--index-type", choices=INDEX_TYPES, default="flat",
                        help="flat: exact, no tuning (default); ivf: clustered lists, approximate, faster from "
                             "about 10^4 windows; hnsw: a graph, approximate (lower recall), more memory")
    dataset = parser.add_argument_group("dataset sources")
    dataset.add_argument("--sensor-column", default=None,
                         help="column of [channels][time] lists (default for datasets and corpora: sensor); giving "
                              "it reads SOURCE as a dataset table")
    dataset.add_argument("--id-column", default=None, help="column of recording ids (default: split/row; corpora: id)")
    dataset.add_argument("--rate-column", default=None,
                         help="column of sampling rates in Hz (default: sampling_rate when the dataset has it, else "
                              "--sampling-rate)")


def run(args: argparse.Namespace) -> int:
    from accelerate import PartialState

    from .slip_index import SlipIndex

    index = SlipIndex.build(
        args.source, args.out, model=args.model, sampling_rate=args.sampling_rate, chunk_length_s=args.chunk_length_s,
        stride_length_s=args.stride_length_s, batch_size=args.batch_size, device=args.device, progress=args.progress,
        index_type=args.index_type, columns=args.columns, sensor_column=args.sensor_column, id_column=args.id_column,
        rate_column=args.rate_column,
    )
    if PartialState().is_main_process:
        report, run_ = index.report, index.report["last_run"]
        processes = f" on {run_['processes']} processes" if run_["processes"] > 1 else ""
        print(f"{report['recordings']} recording(s), {report['windows']} windows indexed "
              f"({report['windows_without_data']} without data left out; {report['index_type']} FAISS index) in "
              f"{args.out}\nthis run embedded {run_['embedded_recordings']} new or changed recording(s) "
              f"({run_['embedded_windows']} windows){processes}; {run_['unchanged_recordings']} unchanged, "
              f"{run_['removed_recordings']} removed")
        if report["skipped"]:
            print(f"skipped {len(report['skipped'])} recording(s) that could not be indexed (tried again on the next "
                  "run): " + "; ".join(f"{skip['recording_id']}: {skip['reason']}" for skip in report["skipped"]))
    return 0
