//! What the binary's tests share: the operator's `product add` of a SKU, as they type it.

/// `dropflow product add <sku> --vendor <vendor>` with a supplier, its page and a cost of
/// 61.50 USD: the arguments, for any way of running the binary.
pub fn product_add<'a>(sku: &'a str, vendor: &'a str) -> [&'a str; 13] {
    [
        "product",
        "add",
        sku,
        "--vendor",
        vendor,
        "--supplier",
        "AliExpress",
        "--url",
        "https://www.aliexpress.com/item/1.html",
        "--cost",
        "61.50",
        "--currency",
        "USD",
    ]
}
