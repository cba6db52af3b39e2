"""A corpus of secrets for the redaction tests: 30 shapes, 133 secrets, generated from a seed
(so every run checks the same ones), each with the text around it on its line.

``Case.shown`` is how many leading characters of the secret a frame may show: for a token
with a known prefix the prefix minus its last character ("ghp" of "ghp_..."), for a card
number its first six digits, for everything else none.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass
from pathlib import Path

SEED = 20261205
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
PASSWORD_CHARS = ALNUM + "!#%^*+_.-"
FIXTURES = Path(__file__).parent / "fixtures" / "ordinary"


@dataclass(frozen=True)
class Case:
    shape: str
    before: str  # on the secret's line, before it (a command, a label)
    secret: str  # "\n" between lines (a key body)
    after: str = ""  # on the same line, after it
    shown: int = 0  # leading characters of the secret a frame may show
    above: str = ""  # the line printed before (a password prompt)

    @property
    def name(self) -> str:
        return f"{self.shape}:{self.secret[:12]}"


def _s(rng: random.Random, chars: str, n: int) -> str:
    return "".join(rng.choice(chars) for _ in range(n))


def _password(rng: random.Random, n: int, chars: str = PASSWORD_CHARS) -> str:
    return rng.choice(string.ascii_letters) + _s(rng, chars, n - 1)


def _luhn_complete(digits: str) -> str:
    for d in "0123456789":
        candidate = digits + d
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _card(rng: random.Random, style: int) -> str:
    if style == 3:  # Amex 4-6-5
        digits = _luhn_complete("37" + _s(rng, string.digits, 12))
        return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
    digits = _luhn_complete(rng.choice("45") + _s(rng, string.digits, 14))
    groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    return (" ".join(groups), "-".join(groups), digits, " ".join(groups))[style]


def _card_shown(card: str) -> int:
    seen = 0
    for i, ch in enumerate(card):
        seen += ch.isdigit()
        if seen == 6:
            return i + 1
    return 0


def _jwt(rng: random.Random) -> str:
    def seg(obj: str) -> str:
        return base64.urlsafe_b64encode(obj.encode()).decode().rstrip("=")
    head = seg('{"alg":"HS256","typ":"JWT"}')
    body = seg('{"sub":"' + _s(rng, ALNUM, rng.randint(6, 20)) + '","iat":' + str(rng.randint(10**9, 2 * 10**9)) + "}")
    return f"{head}.{body}.{_s(rng, B64URL, 43)}"


def _pem_body(rng: random.Random, lines: int, width: int = 64) -> str:
    body = [_s(rng, B64, width) for _ in range(lines - 1)]
    last = _s(rng, B64, rng.randint(8, width - 4))
    return "\n".join(body + [last + "=" * ((-len(last)) % 4)])


def build(seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []

    def add(shape: str, before: str, secret: str, after: str = "", shown: int = 0, above: str = "") -> None:
        cases.append(Case(shape, before, secret, after, shown, above))

    token_places = ["echo ", "export GITHUB_TOKEN=", '{"token": "', "gh auth login --with-token <<< ", "token = "]
    token_tails = ["", "", '", "user": "octocat"}', "", ""]
    for i in range(5):
        add("github_classic", token_places[i], "ghp_" + _s(rng, ALNUM, 36), token_tails[i], 3)
    for i, p in enumerate(["gho_", "ghu_", "ghs_", "ghr_", "gho_"]):
        add("github_other", ["echo ", "GH_TOKEN=", "Authorization: token ", "remote: ", "x "][i], p + _s(rng, ALNUM, 36), shown=3)
    for i in range(4):
        add("github_fine_grained", ["export GH_PAT=", "echo ", "token: ", "use "][i],
            "github_pat_" + _s(rng, ALNUM, 22) + "_" + _s(rng, ALNUM, 59), shown=10)
    for i in range(5):
        add("aws_access_key_id", ["aws_access_key_id = ", "export AWS_ACCESS_KEY_ID=", "key ", '"AccessKeyId": "', "id="][i],
            "AKIA" + _s(rng, string.ascii_uppercase + string.digits, 16), ['', '', ' (active)', '",', ''][i], 3)
    for i in range(4):
        add("aws_session_key_id", ["aws_access_key_id = ", '"AccessKeyId": "', "export AWS_ACCESS_KEY_ID=", "id: "][i],
            "ASIA" + _s(rng, string.ascii_uppercase + string.digits, 16), shown=3)
    for i in range(4):
        add("aws_secret_access_key", ["aws_secret_access_key = ", "export AWS_SECRET_ACCESS_KEY=",
                                      '"SecretAccessKey": "', "AWS_SECRET_ACCESS_KEY: "][i], _s(rng, B64, 40))
    for i, kind in enumerate("bpars"):
        add("slack", ["SLACK_BOT=", "echo ", "slack token ", "curl -d token=", "xox: "][i],
            f"xox{kind}-{_s(rng, string.digits, 12)}-{_s(rng, string.digits, 13)}-{_s(rng, ALNUM, 24)}", shown=4)
    for i in range(4):
        add("stripe_live", ["STRIPE_KEY=", "stripe.api_key = '", "curl -u ", "key: "][i],
            "sk_live_" + _s(rng, ALNUM, rng.choice([24, 99])), ["", "'", ": https://api.stripe.com", ""][i], 7)
    for i, p in enumerate(["sk_test_", "rk_live_", "rk_test_", "sk_test_"]):
        add("stripe_other", ["export STRIPE_TEST=", "echo ", "key ", "restricted: "][i], p + _s(rng, ALNUM, 24), shown=len(p) - 1)
    for i in range(4):
        add("gitlab", ["GITLAB_TOKEN=", "git clone https://oauth2:", "echo ", "PRIVATE-TOKEN: "][i],
            "glpat-" + _s(rng, B64URL, 20), ["", "@gitlab.com/g/p.git", "", ""][i], 5)
    for i in range(4):
        add("npm", ["//registry.npmjs.org/:_authToken=", "NPM_TOKEN=", "echo ", "npm token: "][i],
            "npm_" + _s(rng, ALNUM, 36), shown=3)
    for i in range(4):
        add("pypi", ["password = ", "TWINE_PASSWORD=", "echo ", "uv publish --token "][i],
            "pypi-AgEIcHlwaS5vcmc" + _s(rng, B64URL, rng.randint(60, 150)), shown=4)
    for i in range(4):
        add("google_api_key", ["GOOGLE_API_KEY=", "key=", "curl 'https://maps.googleapis.com/x?key=", "apiKey: "][i],
            "AIza" + _s(rng, B64URL, 35), ["", "", "'", ""][i], 3)
    for i in range(5):
        add("jwt", ["Authorization: Bearer ", "echo ", '{"id_token": "', "jwt=", "token "][i], _jwt(rng),
            ["", "", '"}', "", ""][i], 2)
    for i, p in enumerate(["sk-proj-", "sk-ant-api03-", "sk-proj-", "sk-ant-api03-"]):
        add("openai_anthropic", ["OPENAI_API_KEY=", "export ANTHROPIC_API_KEY=", "echo ", "key: "][i],
            p + _s(rng, B64URL, rng.choice([48, 64, 95])), shown=2)
    for lines in (3, 5, 7, 26):
        kind = rng.choice(["OPENSSH ", "RSA ", "EC ", "ENCRYPTED ", ""])
        add("private_key", "", _pem_body(rng, lines), f"\n-----END {kind}PRIVATE KEY-----",
            above=f"-----BEGIN {kind}PRIVATE KEY-----")
    for name in ("DB_PASS", "MYSQL_PASSWORD", "X_PWD", "REDIS_PASSWD", "PGPASSWORD"):
        add("env_password", rng.choice(["export ", "", "env "]) + name + "=", _password(rng, rng.randint(8, 20)),
            rng.choice(["", " ./run.sh", ""]))
    for name in ("API_SECRET", "SESSION_SECRET", "CI_JOB_TOKEN", "SSH_KEY", "SIGNING_KEY"):
        add("env_secret", rng.choice(["export ", ""]) + name + "=", _s(rng, ALNUM, rng.randint(12, 40)))
    for i in range(4):
        user = _s(rng, string.ascii_lowercase, 6)
        add("curl_user", ["curl -u " + user + ":", "curl -s --user " + user + ":", "curl -u" + user + ":",
                          "wget --user=" + user + " --password "][i],
            _password(rng, rng.randint(8, 16)), " https://api.example.com/v1/items")
    for i in range(5):
        add("cli_password", ["psql --password ", "mycli --password=", "vault login --password ",
                             "ldapsearch --db-password ", "tool --passphrase="][i], _password(rng, rng.randint(8, 16)),
            [" -h db", "", " -method=userpass", "", " --out x"][i])
    for i in range(4):
        add("mysql_p", ["mysql -u root -p'", 'mysqldump -uadmin -p"', "mysql -h db -u app -p", "mariadb -u root -p"][i],
            _password(rng, rng.randint(8, 16), ALNUM + "!#%^*+_.-"), ["' app", '" shop > dump.sql', " app", ""][i])
    for scheme in ("postgres", "mysql", "redis", "https", "amqp"):
        user = "" if scheme == "redis" else _s(rng, string.ascii_lowercase, 5)
        add("url_password", rng.choice(["export DATABASE_URL=", "git clone ", "connect "]) + f"{scheme}://{user}:",
            _password(rng, rng.randint(8, 20), ALNUM + "!*_.-"), f"@{_s(rng, string.ascii_lowercase, 6)}.example.com:5432/app")
    for prompt in ("Password:", "[sudo] password for joe:", "Enter passphrase:", "joe@example.com's password:",
                   "Password (again):"):
        add("prompt_next_line", "", _password(rng, rng.randint(8, 20)), above=prompt)
    for i in range(4):
        add("labelled_password", ["password: ", 'password: "', '{"password": "', "Passphrase="][i],
            _password(rng, rng.randint(8, 20), ALNUM + "!#%^*+_.-"), ["", '"', '", "user": "bob"}', ""][i])
    for i in range(4):
        add("bearer", ['curl -H "Authorization: Bearer ', "Authorization: Bearer ", "authorization: bearer ",
                       "Authorization: Basic "][i], _s(rng, ALNUM + "._-", rng.randint(24, 60)), ['"', "", "", ""][i])
    for i in range(4):
        add("aws_configure", ["AWS Secret Access Key [None]: ", "AWS Secret Access Key [****************" +
                              _s(rng, string.ascii_uppercase, 4) + "]: ", "Secret access key: ", "aws_secret_access_key: "][i],
            _s(rng, B64, 40))
    for i in range(4):
        add("netrc", ["machine api.github.com login bob password ", "machine 10.0.0.2 password ",
                      "machine h.example.com login bob\n  password ", "machine gitlab.example.com login ci password "][i], _password(rng, rng.randint(10, 24)))
    for i in range(4):
        add("cookie", ["Cookie: sessionid=", "< set-cookie: session=", "curl -H 'Cookie: auth_token=", "cookie: sid="][i],
            _s(rng, B64URL, rng.randint(24, 48)), ["", "; Path=/; HttpOnly", "' https://x", "; theme=dark"][i])
    for i in range(4):
        auth = base64.b64encode(f"{_s(rng, string.ascii_lowercase, 6)}:{_password(rng, 16)}".encode()).decode()
        blob = '{"auths":{"ghcr.io":{"auth":"' + auth + '"}}}'
        add("base64_json", ["  .dockerconfigjson: ", "DOCKER_AUTH_CONFIG=", "echo ", '"config": "'][i],
            base64.b64encode(blob.encode()).decode(), ["", "", " | base64 -d", '"'][i], 2)
    for prompt in ("Password for 'https://bob@github.com':", "Enter password for bob@db:"):
        add("prompt_next_line", "", _password(rng, rng.randint(8, 20)), above=prompt)
    for style in range(5):
        card = _card(rng, style % 4)
        add("card_number", ["card: ", "Card number ", "echo ", "Visa ", "pay "][style], card, shown=_card_shown(card))
    return cases


CASES = build()


def ordinary_fixtures() -> dict[str, list[str]]:
    """Realistic output without secrets, by name (ls -l, git log, compilers, pip, ...)."""
    return {p.stem: p.read_text().splitlines() for p in sorted(FIXTURES.iterdir()) if p.suffix == ".txt"}
