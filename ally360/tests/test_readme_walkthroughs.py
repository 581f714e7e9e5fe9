"""The README's walk-throughs, run as written: the blocks marked `<!-- tested: ... -->` are read
from README.md and executed by bash (curl and jq) against `make run`'s embedded default, with only
the server address and the verification token (read from the e-mail the server prints, as a
reader would) filled in. Any answer of 400 or more stops the script."""

import os
import re
import shutil
import subprocess

import pytest
import requests

from ally360.tests.test_embedded_default import (  # noqa: F401 (embedded_env is a fixture)
    ROOT,
    embedded_env,
    embedded_server,
    manage,
)

README = ROOT / "README.md"
MARKER = "<!-- tested: ally360/tests/test_readme_walkthroughs.py -->"
REQUIRED = os.environ.get("ALLY360_REQUIRE_SERVICES") == "1"

PRELUDE = r"""
set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
readme_mail_token() {
  for _ in $(seq 1 100); do
    if grep -q 'verify-email?token=' "$SERVER_LOG"; then
      local quoted
      quoted=$(grep -o 'verify-email?token=[^[:space:]&]*' "$SERVER_LOG" | tail -n 1 | cut -d= -f2-)
      printf '%b\n' "${quoted//%/\\x}"  # the link's token, percent-decoded
      return
    fi

    sleep 0.1
  done
  echo "no verification e-mail in the server's output" >&2
  return 1
}
"""


def readme_blocks() -> list[str]:
    text = README.read_text()
    blocks = re.findall(re.escape(MARKER) + r"\s*```sh\n(.*?)```", text, flags=re.S)
    return blocks


def test_the_readme_marks_its_walk_throughs():
    blocks = readme_blocks()
    assert len(blocks) == 3
    assert "auth/register" in blocks[0] and "pos/sales/" in blocks[1] and "bills/" in blocks[2]


@pytest.fixture
def demo_server(embedded_env, tmp_path):  # noqa: F811
    manage(embedded_env, "migrate", "--noinput")
    manage(embedded_env, "bootstrap_demo")
    log = tmp_path / "server.log"
    with embedded_server(embedded_env, log) as base:
        yield base, log


def test_the_accounts_sales_and_purchases_walk_throughs_run_as_written(demo_server, tmp_path):
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        message = f"the walk-throughs need {', '.join(missing)}"
        pytest.fail(message) if REQUIRED else pytest.skip(message)
    base, log = demo_server
    script = "\n".join(readme_blocks())
    assert script.count("http://127.0.0.1:8000") == 1
    assert script.count("VERIFY=<token from the e-mail>") == 1
    script = script.replace("http://127.0.0.1:8000", base).replace(
        "VERIFY=<token from the e-mail>", "VERIFY=$(readme_mail_token)"
    )
    token_file = tmp_path / "token"
    script = f'{PRELUDE}\n{script}\necho "$TOKEN" > "{token_file}"\n'
    result = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "SERVER_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        result.stdout[-2000:],
        result.stderr[-2000:],
        log.read_text()[-3000:],
    )

    assert "null" not in result.stderr

    # What the walk-through says happened, read back through the API.
    auth = {"Authorization": f"Bearer {token_file.read_text().strip()}"}

    def get(path, **params):
        response = requests.get(f"{base}/api/v1/{path}", headers=auth, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    me = get("auth/me")
    assert me["user"]["email"] == "ana@tienda.co" and me["current_company"]["name"] == "Tienda Ana"

    invoices = {i["full_number"]: i for i in get("invoices/")["results"]}
    assert (invoices["POS1"]["status"], invoices["POS1"]["total"]) == ("paid", "23800.00")
    assert (invoices["FE1"]["total"], invoices["FE1"]["balance"]) == ("113050.00", "57967.50")
    assert invoices["FE1"]["customer"]["name"] == "Distribuidora Andina SAS"
    shift = get("shifts/")["results"][0]
    assert (shift["status"], shift["difference"]) == ("closed", "0.00")
    assert get("receivables/")["totals"]["balance"] == "57967.50"

    bills = {b["number"]: b for b in get("bills/")["results"]}
    assert (bills["FC-00001"]["status"], bills["FC-00001"]["balance"]) == ("paid", "0.00")
    assert (bills["FC-00002"]["total"], bills["FC-00002"]["balance"]) == ("69615.00", "4807.50")
    assert get("payables/")["totals"]["balance"] == "4807.50"
    payment = get("supplier-payments/")["results"][0]
    assert (payment["number"], payment["amount"]) == ("CE-00001", "1393800.00")
    stock = get("stock/")["results"]
    assert [row["quantity"] for row in stock] == ["243.000"]  # 50 - 2 - 10 + 200 + 10 - 5
