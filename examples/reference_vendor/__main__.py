"""Run the reference vendor: `python -m examples.reference_vendor --hub-url … --api-key …`.

The API key and webhook secret may come from the environment instead of flags
(REFERENCE_VENDOR_API_KEY, REFERENCE_VENDOR_WEBHOOK_SECRET), which keeps them out of `ps`.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from .app import ReferenceVendorConfig, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.reference_vendor")
    parser.add_argument("--hub-url", default="http://127.0.0.1:8000", help="the hub's base URL")
    parser.add_argument("--api-key", default=os.environ.get("REFERENCE_VENDOR_API_KEY"))
    parser.add_argument(
        "--webhook-secret", default=os.environ.get("REFERENCE_VENDOR_WEBHOOK_SECRET")
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--public-url", help="where the hub and candidates reach this vendor")
    parser.add_argument("--database", type=Path, default=Path("reference_vendor.db"))
    args = parser.parse_args(argv)
    if not args.api_key or not args.webhook_secret:
        parser.error("--api-key and --webhook-secret (or their environment variables) are needed")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = ReferenceVendorConfig(
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        hub_url=args.hub_url,
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        database_path=args.database,
    )
    uvicorn.run(create_app(config), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
