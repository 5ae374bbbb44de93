"""`slip push`: uploads an exported SLIP Hub folder with huggingface_hub, after checking it.

`--dry-run` checks the folder (`validate_hub_folder`: files, finite weights, configs, code, card metadata) and prints
what would be uploaded, without any network access; `slip export`'s marker file stays local. A real push also runs the Hub's own model-card validator before uploading.
"""

import argparse
from pathlib import Path

from huggingface_hub import HfApi, ModelCard

from .errors import UserError
from .hub_folder import upload_files, validate_hub_folder
from .output_folders import MARKER

HELP = "Upload an exported SLIP Hub folder to the Hugging Face Hub (--dry-run: check it and list the files)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="a folder written by `slip export`")
    parser.add_argument("--repo-id", required=True, help="target model repository, e.g. user/slip-base")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--revision", help="branch to upload to (created if missing; default: main)")
    parser.add_argument("--commit-message", default="Upload SLIP model", help="commit message")
    parser.add_argument("--dry-run", action="store_true", help="check the folder and list the files; no network")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    problems = validate_hub_folder(folder)
    if problems:
        raise UserError(f"{folder} is not ready to upload: {'; '.join(problems)}. Export it again with `slip export`")
    files = upload_files(folder)
    target = f"{args.repo_id}@{args.revision or 'main'}{' (private)' if args.private else ''}"
    print(f"{'Would upload' if args.dry_run else 'Uploading'} {len(files)} files to {target}:")
    for path in files:
        print(f"  {path.relative_to(folder)}  {path.stat().st_size:,} bytes")
    if args.dry_run:
        return 0
    ModelCard.load(folder / "README.md").validate()
    api = HfApi()
    api.create_repo(args.repo_id, repo_type="model", private=args.private or None, exist_ok=True)
    if args.revision:
        api.create_branch(args.repo_id, branch=args.revision, exist_ok=True)
    commit = api.upload_folder(
        repo_id=args.repo_id,
        folder_path=folder,
        repo_type="model",
        revision=args.revision,
        commit_message=args.commit_message,
        ignore_patterns=[MARKER],
    )
    print(f"Uploaded: {commit.commit_url}")
    return 0
