"""What `smartcharge serve` (and so `make run`) prints first: where the console, the API docs and the OCPP
endpoint are, how to log in, and how to try it with a simulated charge point."""

from app.settings import Settings

__all__ = ["where_to_go"]

ANY_ADDRESS = {"0.0.0.0", "::", ""}


def _reachable(host: str) -> str:
    """An address a browser on this machine can open ("0.0.0.0" listens everywhere, loopback included)."""
    return "127.0.0.1" if host in ANY_ADDRESS else host


def where_to_go(settings: Settings, host: str, port: int) -> str:
    web = f"http://{_reachable(host)}:{port}"
    scheme = "wss" if settings.ocpp_tls_cert else "ws"
    ocpp = f"{scheme}://{_reachable(settings.ocpp_host)}:{settings.ocpp_port}/ocpp/<charge point id>"
    login = (
        "with the API key SMARTCHARGE_ADMIN_TOKEN"
        if settings.admin_token is not None
        else "with a key from `smartcharge apikey create --role operator`"
    )
    return "\n".join(
        [
            f"console   {web}/  (log in as a user from `smartcharge user create`, or {login})",
            f"API docs  {web}/docs",
            f"OCPP 1.6J {ocpp}  (subprotocol ocpp1.6)",
            "try it    register a charge point and an id tag, then "
            "`smartcharge simulate --id <charge point id> --session <id tag>` (README: a first session)",
        ]
    )
