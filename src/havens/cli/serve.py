from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1),
    reload: bool = typer.Option(False),
) -> None:
    """Serve the web app and the API with uvicorn."""
    import uvicorn

    uvicorn.run("havens.main:create_app", factory=True, host=host, port=port, workers=workers,
                reload=reload, proxy_headers=True, forwarded_allow_ips="127.0.0.1")
