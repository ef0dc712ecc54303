//! Routing keys: `<tenant>.<region>.<kind>`.
//!
//! Tenant and region ids are opaque and may contain the characters that topic routing treats
//! specially, so each is percent-encoded (`%`, `.`, `*`, `#`) before it becomes a word of the key.
//! Publishers and bindings use the same encoding, so any id routes correctly.

/// The longest routing key AMQP 0-9-1 allows, in bytes.
pub const MAX_ROUTING_KEY_BYTES: usize = 255;

/// Encodes one id as a single topic word.
pub fn encode_word(id: &str) -> String {
    let mut word = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '%' => word.push_str("%25"),
            '.' => word.push_str("%2E"),
            '*' => word.push_str("%2A"),
            '#' => word.push_str("%23"),
            _ => word.push(c),
        }
    }
    word
}

/// The routing key for an event of `kind` in a tenant's region, or `None` if it would exceed
/// [`MAX_ROUTING_KEY_BYTES`].
pub fn routing_key(tenant_id: &str, region_id: &str, kind: &str) -> Option<String> {
    let key = format!(
        "{}.{}.{kind}",
        encode_word(tenant_id),
        encode_word(region_id)
    );
    (key.len() <= MAX_ROUTING_KEY_BYTES).then_some(key)
}

/// The binding pattern that matches every kind of event in one region.
pub fn region_pattern(tenant_id: &str, region_id: &str) -> String {
    format!("{}.{}.*", encode_word(tenant_id), encode_word(region_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_pass_through() {
        assert_eq!(
            routing_key("acme", "berlin", "order_placed").as_deref(),
            Some("acme.berlin.order_placed")
        );
        assert_eq!(region_pattern("acme", "berlin"), "acme.berlin.*");
    }

    #[test]
    fn special_characters_stay_inside_one_word() {
        let key = routing_key("a.b", "c*#%", "order_placed").expect("short key");
        assert_eq!(key, "a%2Eb.c%2A%23%25.order_placed");
        assert_eq!(key.split('.').count(), 3);
    }

    #[test]
    fn distinct_ids_give_distinct_words() {
        // Without escaping "%" these two would collide.
        assert_ne!(encode_word("a.b"), encode_word("a%2Eb"));
    }

    #[test]
    fn over_long_keys_are_refused() {
        let long = "x".repeat(128);
        assert!(routing_key(&long, &long, "order_placed").is_none());
    }
}
