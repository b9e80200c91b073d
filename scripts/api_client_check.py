"""The vendor API as a client author meets it, from its document alone.

Run by scripts/test.sh against a local `dropflow serve` (a vendor, its key and a SKU it
sells already set up):

1. every example in /openapi.json is valid against its own schema (JSON Schema 2020-12,
   the document's references resolved), so no example can drift from the wire;
2. a Python client generated from the document with openapi-python-client imports, and
   drives one order from new to delivered through its typed calls and models: a signed
   generic webhook brings the order, the client lists, reads, places, ships and marks it
   delivered, and reads a refusal as the document's Problem.

Exits non-zero, saying what failed, on any mismatch.
"""

import argparse
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def examples_match_their_schemas(document):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:dropflow", Resource.from_contents(document, default_specification=DRAFT202012))
    checked, failures = 0, []
    for name, schema in document["components"]["schemas"].items():
        if "example" not in schema:
            continue
        validator = Draft202012Validator({"$ref": f"urn:dropflow#/components/schemas/{name}"}, registry=registry)
        checked += 1
        for error in validator.iter_errors(schema["example"]):
            failures.append(f"{name}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
    if failures:
        sys.exit("examples that do not match their schemas:\n" + "\n".join(failures))
    if checked < 10:
        sys.exit(f"only {checked} schemas carry an example")
    print(f"openapi examples: {checked} valid against their schemas")


def send_order(base, secret, sku, number):
    """A paid generic order, signed on its raw bytes as a storefront signs it."""
    body = json.dumps({
        "id": number, "number": f"#{number}", "currency": "USD", "financial_status": "paid", "updated_at": "2026-11-20T10:00:00Z",
        "customer": {"name": "Ann Client", "email": "ann@client.example"},
        "shipping_address": {"name": "Ann Client", "line1": "1 Main St", "city": "Austin", "postal_code": "78701", "country_code": "US"},
        "lines": [{"id": "1", "sku": sku, "title": "Fuzz", "quantity": 1, "unit_price": "10.00", "paid": "10.00"}],
    }).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    request = urllib.request.Request(f"{base}/webhooks/generic", data=body, method="POST",
                                     headers={"X-Dropflow-Signature": signature, "X-Dropflow-Topic": "order.paid", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200, answer.status


def generate_client(base, workdir):
    config = workdir / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))
    tool = Path(sys.executable).parent / "openapi-python-client"
    subprocess.run([str(tool), "generate", "--url", f"{base}/openapi.json", "--output-path", str(workdir / "client"), "--config", str(config)],
                   check=True, capture_output=True, text=True)
    sys.path.insert(0, str(workdir / "client"))


def round_trip(base, key, number):
    from dropflow_client import AuthenticatedClient
    from dropflow_client.api.orders import delivered, get_order, list_orders, shipment, supplier_order
    from dropflow_client.models import DeliveredBody, OrderState, Problem, ShipmentBody, SupplierOrderBody, VendorOrderJson

    client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)
    order_id = None
    for _ in range(100):  # intake routes the order from its queue within a moment
        page = list_orders.sync(client=client, state=OrderState.AWAITING_SUPPLIER, limit=100)
        order_id = next((o.id for o in page.orders if o.order_number == f"#{number}"), None)
        if order_id:
            break
        time.sleep(0.1)
    assert order_id, f"order #{number} never reached the vendor"

    order = get_order.sync(client=client, id=order_id)
    assert isinstance(order, VendorOrderJson) and order.state == OrderState.AWAITING_SUPPLIER, order
    assert order.lines[0].paid.amount == "10.00" and order.shipping_address.city == "Austin", order
    placed = supplier_order.sync(client=client, id=order_id, body=SupplierOrderBody(supplier_order_ref=f"AE-{number}"))
    assert placed.state == OrderState.AWAITING_SHIPMENT, placed
    shipped = shipment.sync(client=client, id=order_id, body=ShipmentBody(tracking_number="1Z5R89390357567127"))
    assert shipped.state == OrderState.SHIPPED and shipped.tracking.number == "1Z5R89390357567127", shipped
    arrived = delivered.sync(client=client, id=order_id, body=DeliveredBody())
    assert arrived.state == OrderState.DELIVERED and arrived.delivered_at is not None, arrived
    refused = supplier_order.sync(client=client, id=order_id, body=SupplierOrderBody(supplier_order_ref="AE-again"))
    assert isinstance(refused, Problem) and refused.status == 409 and refused.type_ == "about:blank", refused
    print(f"openapi-python-client: order {order_id} listed, read, placed, shipped and delivered through the generated client")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:3000")
    parser.add_argument("--key", required=True, help="a vendor's API key")
    parser.add_argument("--sku", required=True, help="a SKU the vendor sells")
    parser.add_argument("--secret", default="dropflow-local-generic-secret", help="the generic webhook's secret")
    args = parser.parse_args()
    with urllib.request.urlopen(f"{args.base}/openapi.json") as answer:
        document = json.load(answer)
    examples_match_their_schemas(document)
    number = "API-1"
    send_order(args.base, args.secret, args.sku, number)
    with tempfile.TemporaryDirectory() as workdir:
        generate_client(args.base, Path(workdir))
        round_trip(args.base, args.key, number)


if __name__ == "__main__":
    main()
