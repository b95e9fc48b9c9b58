//! Content blocks, read in one pass without loss: a known kind with its fields, anything else
//! kept whole as [`Content::Unknown`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::ResourceContents;

/// A content block of a tool result or prompt message.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
        /// Annotations and `_meta`, kept as sent.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// A base64-encoded image.
    Image {
        /// Base64 data.
        data: String,
        /// MIME type, e.g. `image/png`.
        #[serde(rename = "mimeType")]
        mime_type: String,
        /// Annotations and `_meta`, kept as sent.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Base64-encoded audio.
    Audio {
        /// Base64 data.
        data: String,
        /// MIME type, e.g. `audio/wav`.
        #[serde(rename = "mimeType")]
        mime_type: String,
        /// Annotations and `_meta`, kept as sent.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// A link to a resource the client may read.
    ResourceLink {
        /// The resource URI.
        uri: String,
        /// The resource name.
        name: String,
        /// Other fields (description, mimeType, `_meta`...), kept as sent.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// An embedded resource.
    Resource {
        /// The resource's contents.
        resource: ResourceContents,
        /// Annotations and `_meta`, kept as sent.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// A content kind this crate does not know, kept whole.
    #[serde(untagged)]
    Unknown(Value),
}

impl<'de> Deserialize<'de> for Content {
    /// One pass over the block: the fields a known kind names are taken as they come, the rest
    /// go to `extra`. A block of an unknown kind, or a known kind with a field missing or of the
    /// wrong type, is kept whole as [`Content::Unknown`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// The fields of a content block that some known kind names. Values are kept as sent until the
/// kind is known.
#[derive(Default)]
struct ContentFields {
    kind: Option<Value>,
    text: Option<Value>,
    data: Option<Value>,
    mime_type: Option<Value>,
    uri: Option<Value>,
    name: Option<Value>,
    resource: Option<Value>,
    extra: Map<String, Value>,
}

impl ContentFields {
    fn slot(&mut self, key: &str) -> Option<&mut Option<Value>> {
        Some(match key {
            "type" => &mut self.kind,
            "text" => &mut self.text,
            "data" => &mut self.data,
            "mimeType" => &mut self.mime_type,
            "uri" => &mut self.uri,
            "name" => &mut self.name,
            "resource" => &mut self.resource,
            _ => return None,
        })
    }

    /// Moves the named fields still held into `extra`, `type` too when `with_kind`.
    fn into_map(mut self, with_kind: bool) -> Map<String, Value> {
        let mut map = std::mem::take(&mut self.extra);
        if with_kind && let Some(kind) = self.kind.take() {
            map.insert("type".to_owned(), kind);
        }
        let named = [
            ("text", &mut self.text),
            ("data", &mut self.data),
            ("mimeType", &mut self.mime_type),
            ("uri", &mut self.uri),
            ("name", &mut self.name),
            ("resource", &mut self.resource),
        ];
        for (key, slot) in named {
            if let Some(value) = slot.take() {
                map.insert(key.to_owned(), value);
            }
        }
        map
    }

    /// Everything not yet taken, `type` left out: a known kind's `extra`.
    fn rest(self) -> Map<String, Value> {
        self.into_map(false)
    }

    /// The block as sent.
    fn whole(self) -> Value {
        Value::Object(self.into_map(true))
    }

    /// The kind of the block, if it is a known one whose fields have the types that kind
    /// needs (an embedded resource's contents are checked when read).
    fn known_kind(&self) -> Option<Kind> {
        let is_str = |v: &Option<Value>| matches!(v, Some(Value::String(_)));
        let Some(Value::String(kind)) = &self.kind else {
            return None;
        };
        let (kind, fits) = match kind.as_str() {
            "text" => (Kind::Text, is_str(&self.text)),
            "image" => (Kind::Image, is_str(&self.data) && is_str(&self.mime_type)),
            "audio" => (Kind::Audio, is_str(&self.data) && is_str(&self.mime_type)),
            "resource_link" => (Kind::ResourceLink, is_str(&self.uri) && is_str(&self.name)),
            "resource" => (Kind::Resource, true),
            _ => return None,
        };
        fits.then_some(kind)
    }

    fn into_content(mut self) -> Content {
        let Some(kind) = self.known_kind() else {
            return Content::Unknown(self.whole());
        };
        let take = |v: &mut Option<Value>| match v.take() {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        match kind {
            Kind::Text => {
                let text = take(&mut self.text);
                Content::Text {
                    text,
                    extra: self.rest(),
                }
            }
            Kind::Image => {
                let (data, mime_type) = (take(&mut self.data), take(&mut self.mime_type));
                Content::Image {
                    data,
                    mime_type,
                    extra: self.rest(),
                }
            }
            Kind::Audio => {
                let (data, mime_type) = (take(&mut self.data), take(&mut self.mime_type));
                Content::Audio {
                    data,
                    mime_type,
                    extra: self.rest(),
                }
            }
            Kind::ResourceLink => {
                let (uri, name) = (take(&mut self.uri), take(&mut self.name));
                Content::ResourceLink {
                    uri,
                    name,
                    extra: self.rest(),
                }
            }
            Kind::Resource => match self.resource.as_ref().map(ResourceContents::deserialize) {
                Some(Ok(resource)) => {
                    self.resource = None;
                    Content::Resource {
                        resource,
                        extra: self.rest(),
                    }
                }
                _ => Content::Unknown(self.whole()),
            },
        }
    }
}

/// The content kinds this crate knows.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Image,
    Audio,
    ResourceLink,
    Resource,
}

/// A key of a content block, read without copying the ones a known kind names.
struct ContentKey<'a>(std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for ContentKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = ContentKey<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ContentKey(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ContentKey(v.to_owned().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(ContentKey(v.into()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct ContentVisitor;

impl<'de> serde::de::Visitor<'de> for ContentVisitor {
    type Value = Content;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a content block")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Content, A::Error> {
        let mut fields = ContentFields::default();
        while let Some(ContentKey(key)) = map.next_key()? {
            let value: Value = map.next_value()?;
            // A repeated key keeps its last value, as `Value` does.
            match fields.slot(&key) {
                Some(slot) => *slot = Some(value),
                None => {
                    fields.extra.insert(key.into_owned(), value);
                }
            }
        }
        Ok(fields.into_content())
    }

    // Anything but an object is no content kind at all: kept whole.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Content::Unknown(Value::Array(items)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Content, E> {
        Ok(Content::Unknown(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Content, E> {
        Ok(Content::Unknown(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Content, E> {
        Ok(Content::Unknown(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Content, E> {
        Ok(Content::Unknown(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Content, E> {
        Ok(Content::Unknown(Value::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Content, E> {
        Ok(Content::Unknown(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Content, E> {
        Ok(Content::Unknown(Value::Null))
    }
}

impl Content {
    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_content_is_kept_whole() {
        let raw = json!({"type": "hologram", "frames": 3});
        let c: Content = serde_json::from_value(raw.clone()).expect("content");
        assert_eq!(c, Content::Unknown(raw.clone()));
        assert_eq!(serde_json::to_value(&c).expect("ser"), raw);
    }

    #[test]
    fn known_content_round_trips_with_meta() {
        for raw in [
            json!({"type": "text", "text": "hi", "_meta": {"k": 1}}),
            json!({"type": "image", "data": "AA==", "mimeType": "image/png"}),
            json!({"type": "audio", "data": "AA==", "mimeType": "audio/wav"}),
            json!({"type": "resource_link", "uri": "demo://x", "name": "x", "mimeType": "text/plain"}),
            json!({"type": "resource", "resource": {"uri": "demo://y", "blob": "AA=="}}),
            json!({"type": "resource", "resource": {"uri": "demo://z", "text": "t", "mimeType": "text/plain"}}),
        ] {
            let c: Content = serde_json::from_value(raw.clone()).expect("content");
            assert!(
                !matches!(c, Content::Unknown(_)),
                "{raw} was not recognised"
            );
            assert_eq!(serde_json::to_value(&c).expect("ser"), raw);
        }
    }

    #[test]
    fn content_read_from_text_keeps_every_field() {
        // From text, keys arrive borrowed; an escaped key arrives owned.
        let c: Content = serde_json::from_str(
            r#"{"t\u0065xt":"hi","type":"text","data":1,"annotations":{"priority":1}}"#,
        )
        .expect("content");
        assert_eq!(
            serde_json::to_value(&c).expect("ser"),
            json!({"type": "text", "text": "hi", "data": 1, "annotations": {"priority": 1}})
        );
        assert_eq!(c.as_text(), Some("hi"));
        // A repeated key keeps its last value.
        let c: Content =
            serde_json::from_str(r#"{"type":"text","text":"a","text":"b"}"#).expect("content");
        assert_eq!(c.as_text(), Some("b"));
        // Not an object: kept whole.
        for raw in [
            r#""plain""#,
            "[1,{\"type\":\"text\"}]",
            "3",
            "-3",
            "1.5",
            "true",
            "null",
        ] {
            let c: Content = serde_json::from_str(raw).expect(raw);
            let value: Value = serde_json::from_str(raw).expect(raw);
            assert_eq!(c, Content::Unknown(value), "{raw}");
        }
        // Truncated input is an error, not a guess.
        assert!(serde_json::from_str::<Content>(r#"{"type":"text","text":"#).is_err());
    }

    #[test]
    fn malformed_known_content_is_kept_as_unknown() {
        for raw in [
            json!({"type": "image", "data": 5}),
            json!({"type": "image", "data": "AA=="}),
            json!({"type": "text"}),
            json!({"type": 7, "text": "hi"}),
            json!({"text": "hi"}),
            json!({"type": "resource_link", "uri": "demo://x", "name": null}),
            json!({"type": "resource", "resource": {"text": "no uri"}, "_meta": {}}),
        ] {
            let c: Content = serde_json::from_value(raw.clone()).expect("content");
            assert_eq!(c, Content::Unknown(raw.clone()));
            let text = raw.to_string();
            let c: Content = serde_json::from_str(&text).expect("content");
            assert_eq!(c, Content::Unknown(raw));
        }
    }
}
