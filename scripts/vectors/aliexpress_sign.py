"""AliExpress Open Platform request signatures, computed independently of the Rust code
(the "Signature algorithm" page: parameters sorted by name, key+value concatenated, the
API path first for /rest calls, HMAC-SHA256 keyed by the app secret, uppercase hex).
Writes the vectors the Rust unit test reads: python3 scripts/vectors/aliexpress_sign.py"""
import hashlib
import hmac
import pathlib

params = {"app_key": "123456", "access_token": "test", "timestamp": "1517820392000", "sign_method": "sha256", "order_id": "1234"}
joined = "".join(k + params[k] for k in sorted(params))
here = pathlib.Path(__file__).parent
for name, text in (("rest", "/orders/{orderId}" + joined), ("sync", joined)):
    digest = hmac.new(b"helloworld", text.encode(), hashlib.sha256).hexdigest().upper()
    (here / f"aliexpress_sign_{name}.txt").write_text(digest + "\n")
    print(name, digest)
