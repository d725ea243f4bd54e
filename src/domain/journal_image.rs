//! How the journal keeps an object's image without writing a state twice.
//!
//! A versioned entity's state is stored whole once, as a row of its versions table when a
//! journal entry closes it. That entry's `before` is the row, and so is the `after` of the entry
//! that began the state (kept, folded, in the closing entry's `prior`); while the state is live,
//! that `after` waits whole beside the live row. A *fold* records which row is the base, the
//! image's key order (a shape, stored once per distinct order), and the few values the row does
//! not hold or holds differently (`stale`, a port's `type`, a `hidden` flag the row keeps as
//! 0/1, a `last_seen_at` moved since). Unfolding gives back the image exactly, key order
//! included (by construction; debug builds check every fold).
//!
//! A fold is stored as a JSON array `[shape, base_seq]` or `[shape, base_seq, {overrides}]`;
//! a whole image is a JSON object. Images are always objects, so the two never mix.

use serde_json::{Map, Value};

/// A folded image: the base is the version row closed by journal entry `base_seq`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub shape: i64,
    pub base_seq: i64,
    pub overrides: Map<String, Value>,
}

impl Fold {
    /// The stored form.
    pub fn to_value(&self) -> Value {
        let mut out = vec![Value::from(self.shape), Value::from(self.base_seq)];
        if !self.overrides.is_empty() {
            out.push(Value::Object(self.overrides.clone()));
        }
        Value::Array(out)
    }

    /// Reads the stored form; `None` for anything else (a whole image, a damaged value).
    pub fn from_value(v: &Value) -> Option<Fold> {
        let items = v.as_array()?;
        let (shape, base_seq) = (items.first()?.as_i64()?, items.get(1)?.as_i64()?);
        let overrides = match items.get(2) {
            None => Map::new(),
            Some(Value::Object(m)) if items.len() == 3 => m.clone(),
            Some(_) => return None,
        };
        Some(Fold {
            shape,
            base_seq,
            overrides,
        })
    }
}

/// The key order of an image, as stored in the shapes table.
pub fn shape_of(image: &Map<String, Value>) -> String {
    let keys: Vec<&String> = image.keys().collect();
    serde_json::to_string(&keys).expect("strings serialise")
}

/// The overrides that turn `base` into `image` given the image's own key order. Unfolding them
/// gives `image` back by construction: each key takes its override, else the base's value,
/// which equals the image's wherever no override was kept (a key the base lacks reads as null,
/// and a null image value is then not kept). Debug builds, and so the tests, check it.
pub fn overrides(image: &Map<String, Value>, base: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in image {
        let from_base = base.get(key).unwrap_or(&Value::Null);
        if from_base != value {
            out.insert(key.clone(), value.clone());
        }
    }
    debug_assert!(
        {
            let keys: Vec<String> = image.keys().cloned().collect();
            unfold(&keys, base, &out) == *image
        },
        "a fold unfolds to its image"
    );
    out
}

/// The image: every key of the shape in its order, from the overrides, else from the base row,
/// else null (the fields a live image shows as null and a closed row fills, `valid_to` and
/// `lineage_id`, are not base columns).
pub fn unfold(
    keys: &[String],
    base: &Map<String, Value>,
    overrides: &Map<String, Value>,
) -> Map<String, Value> {
    keys.iter()
        .map(|k| {
            let v = overrides
                .get(k)
                .or_else(|| base.get(k))
                .cloned()
                .unwrap_or(Value::Null);
            (k.clone(), v)
        })
        .collect()
}

/// The shape's keys from their stored form.
pub fn parse_shape(text: &str) -> Option<Vec<String>> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn port_image() -> Map<String, Value> {
        object(json!({
            "id": "p1", "host_id": "h1", "network_id": "n1", "number": 8000, "protocol": "Tcp",
            "type": "Custom", "created_at": "t0", "updated_at": "t0", "valid_from": "t0",
            "valid_to": null, "lineage_id": null, "first_discovery_id": null,
            "last_discovery_id": null, "last_seen_at": "t0", "stale": false
        }))
    }

    fn port_row() -> Map<String, Value> {
        // A versions row as `json_object` gives it: the lineage as `id`, columns in table order.
        object(json!({
            "id": "p1", "host_id": "h1", "network_id": "n1", "number": 8000, "protocol": "Tcp",
            "created_at": "t0", "updated_at": "t0", "valid_from": "t0", "last_seen_at": "t0",
            "first_discovery_id": null, "last_discovery_id": null
        }))
    }

    fn round_trip(image: &Map<String, Value>, base: &Map<String, Value>) -> Map<String, Value> {
        let o = overrides(image, base);
        let keys = parse_shape(&shape_of(image)).expect("shape");
        unfold(&keys, base, &o)
    }

    #[test]
    fn a_version_row_leaves_only_what_it_does_not_hold() {
        let o = overrides(&port_image(), &port_row());
        assert_eq!(o, object(json!({"type": "Custom", "stale": false})));
        assert_eq!(round_trip(&port_image(), &port_row()), port_image());
    }

    #[test]
    fn key_order_comes_from_the_shape_not_the_row() {
        let image = port_image();
        let back = round_trip(&image, &port_row());
        let order: Vec<&String> = back.keys().collect();
        assert_eq!(order, image.keys().collect::<Vec<_>>());
    }

    #[test]
    fn values_the_row_holds_differently_are_kept() {
        let mut image = port_image();
        image.insert("last_seen_at".into(), json!("t9"));
        image.insert("lineage_id".into(), json!("p1"));
        let mut base = port_row();
        base.insert("hidden".into(), json!(0));
        image.insert("hidden".into(), json!(false));
        let o = overrides(&image, &base);
        assert_eq!(o.get("last_seen_at"), Some(&json!("t9")));
        assert_eq!(o.get("hidden"), Some(&json!(false)));
        assert_eq!(o.get("lineage_id"), Some(&json!("p1")));
        assert_eq!(round_trip(&image, &base), image);
    }

    #[test]
    fn a_null_the_row_fills_is_kept_as_null() {
        let mut base = port_row();
        base.insert("valid_to".into(), json!("t5"));
        let o = overrides(&port_image(), &base);
        assert_eq!(o.get("valid_to"), Some(&Value::Null));
        assert_eq!(round_trip(&port_image(), &base), port_image());
    }

    #[test]
    fn an_empty_base_keeps_every_value() {
        let image = port_image();
        assert_eq!(round_trip(&image, &Map::new()), image);
    }

    #[test]
    fn the_stored_form_reads_back_and_refuses_images() {
        let fold = Fold {
            shape: 3,
            base_seq: 41,
            overrides: object(json!({"stale": false})),
        };
        assert_eq!(fold.to_value(), json!([3, 41, {"stale": false}]));
        assert_eq!(Fold::from_value(&fold.to_value()), Some(fold));
        let bare = Fold {
            shape: 1,
            base_seq: 2,
            overrides: Map::new(),
        };
        assert_eq!(bare.to_value(), json!([1, 2]));
        assert_eq!(Fold::from_value(&json!([1, 2])), Some(bare));
        assert_eq!(Fold::from_value(&Value::Object(port_image())), None);
        assert_eq!(Fold::from_value(&json!([1])), None);
        assert_eq!(Fold::from_value(&json!([1, 2, [3]])), None);
        assert_eq!(Fold::from_value(&json!(["a", 2])), None);
    }

    #[test]
    fn nested_values_compare_whole() {
        let mut image = port_image();
        image.insert("source".into(), json!({"type": "Discovery"}));
        let mut base = port_row();
        base.insert("source".into(), json!({"type": "Manual"}));
        let o = overrides(&image, &base);
        assert_eq!(o.get("source"), Some(&json!({"type": "Discovery"})));
        base.insert("source".into(), json!({"type": "Discovery"}));
        assert!(overrides(&image, &base).get("source").is_none());
    }
}
