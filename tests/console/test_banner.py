"""`smartcharge serve` says where to go: the console, the API docs, the OCPP URL, how to log in."""

from pydantic import SecretStr

from app.console.banner import where_to_go
from app.settings import Settings


def test_the_banner_names_the_console_the_docs_and_the_ocpp_url() -> None:
    banner = where_to_go(
        Settings(ocpp_host="0.0.0.0", ocpp_port=9000, admin_token=SecretStr("s")), "0.0.0.0", 8000
    )
    assert banner.splitlines() == [
        "console   http://127.0.0.1:8000/  (log in as a user from `smartcharge user create`, or with the API"
        " key SMARTCHARGE_ADMIN_TOKEN)",
        "API docs  http://127.0.0.1:8000/docs",
        "OCPP 1.6J ws://127.0.0.1:9000/ocpp/<charge point id>  (subprotocol ocpp1.6)",
        "try it    register a charge point and an id tag, then `smartcharge simulate --id <charge point id>"
        " --session <id tag>` (README: a first session)",
    ]
    without_admin = where_to_go(Settings(admin_token=None), "10.0.0.5", 8080)
    assert "http://10.0.0.5:8080/" in without_admin
    assert "smartcharge apikey create --role operator" in without_admin
