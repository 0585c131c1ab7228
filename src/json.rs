//! Reading request JSON straight into small typed shapes, never into a `serde_json::Value` tree: a
//! body costs about what it weighs, whatever it nests. What a rule does not need is skipped
//! without being kept ([`IgnoredAny`]); lists stop at their limit ([`Bounded`]); an object that
//! repeats a key is refused, where a `Value` would silently keep the last one.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The `visit_bool`, `visit_i64`, `visit_u64` and `visit_f64` of a visitor that keeps only which
/// kind of scalar it saw: `$other` builds the value from `"a boolean"` or `"a number"`.
macro_rules! scalars_are_other {
    ($self:ident, $kind:ident => $other:expr) => {
        fn visit_bool<E: de::Error>($self, _: bool) -> Result<Self::Value, E> {
            let $kind = "a boolean";
            Ok($other)
        }
        fn visit_i64<E: de::Error>($self, _: i64) -> Result<Self::Value, E> {
            let $kind = "a number";
            Ok($other)
        }
        fn visit_u64<E: de::Error>($self, _: u64) -> Result<Self::Value, E> {
            let $kind = "a number";
            Ok($other)
        }
        fn visit_f64<E: de::Error>($self, _: f64) -> Result<Self::Value, E> {
            let $kind = "a number";
            Ok($other)
        }
    };
}

/// A JSON value seen only as far as a rule needs: text, null, or which other kind it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shallow {
    /// A string.
    Str(String),
    /// `null`.
    Null,
    /// Anything else: `"a number"`, `"a boolean"`, `"an array"` or `"an object"` (not kept).
    Other(&'static str),
}

impl Shallow {
    /// The text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Shallow::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Visits any JSON value, turning strings into `T` with `text` and every other kind into `other`.
struct AnyVisitor<T> {
    text: fn(String) -> T,
    other: fn(&'static str) -> T,
    null: fn() -> T,
}

impl<'de, T> Visitor<'de> for AnyVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.text)(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok((self.text)(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok((self.null)())
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok((self.null)())
    }
    scalars_are_other!(self, kind => (self.other)(kind));
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((self.other)("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((self.other)("an object"))
    }
}

impl<'de> Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor {
            text: Shallow::Str,
            other: Shallow::Other,
            null: || Shallow::Null,
        })
    }
}

/// A JSON array of at most `N` items; a longer one is refused as soon as item `N + 1` is seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<T, const N: usize>(pub Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {N} items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
                while let Some(item) = seq.next_element()? {
                    if items.len() == N {
                        return Err(de::Error::custom(format_args!("more than {N} items")));
                    }
                    items.push(item);
                }
                Ok(Bounded(items))
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

/// A JSON value that is a string, null, a list of at most `N` items, or something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrOrList<T, const N: usize> {
    /// A string.
    Str(String),
    /// `null`.
    Null,
    /// An array.
    List(Vec<T>),
    /// Any other kind (not kept).
    Other(&'static str),
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for StrOrList<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for V<T, N> {
            type Value = StrOrList<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let Bounded(items) =
                    Bounded::<T, N>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(StrOrList::List(items))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrOrList::Str(v.to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StrOrList::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StrOrList::Null)
            }
            scalars_are_other!(self, kind => StrOrList::Other(kind));
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StrOrList::Other("an object"))
            }
        }
        d.deserialize_any(V::<T, N>(PhantomData))
    }
}

/// An item that is a string, an object of which only the keys in `K::KEYS` are kept, or
/// something else. A kept key that appears twice is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrOrObject<K: Keys> {
    /// A string.
    Str(String),
    /// An object: the value of each kept key, at the key's place in `K::KEYS` (a fixed array:
    /// an item costs no allocation beyond its values' text).
    Object([Option<Shallow>; MAX_KEPT], PhantomData<K>),
    /// Any other kind (not kept).
    Other(&'static str),
}

/// The most keys a [`StrOrObject`] keeps (a [`Keys`] with more is refused as it is read).
pub const MAX_KEPT: usize = 4;

/// The keys a [`StrOrObject`] keeps.
pub trait Keys {
    /// The keys.
    const KEYS: &'static [&'static str];
}

impl<K: Keys> StrOrObject<K> {
    fn place(key: &str) -> Option<usize> {
        K::KEYS.iter().position(|k| *k == key)
    }

    /// The value of `key` in an object item.
    pub fn get(&self, key: &str) -> Option<&Shallow> {
        match self {
            StrOrObject::Object(fields, _) => fields.get(Self::place(key)?)?.as_ref(),
            _ => None,
        }
    }

    /// The value of `key` in an object item, moved out (no copy of its text).
    pub fn take(&mut self, key: &str) -> Option<Shallow> {
        match self {
            StrOrObject::Object(fields, _) => fields.get_mut(Self::place(key)?)?.take(),
            _ => None,
        }
    }
}

/// An object key, matched against `K::KEYS` as it is read: a kept key is its place there, any
/// other is `None`. Nothing is allocated for either.
struct KeptKey<K>(Option<usize>, PhantomData<K>);

impl<'de, K: Keys> Deserialize<'de> for KeptKey<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: Keys> Visitor<'de> for V<K> {
            type Value = KeptKey<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeptKey(K::KEYS.iter().position(|k| *k == v), PhantomData))
            }
        }
        d.deserialize_str(V::<K>(PhantomData))
    }
}

impl<'de, K: Keys> Deserialize<'de> for StrOrObject<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: Keys> Visitor<'de> for V<K> {
            type Value = StrOrObject<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields: [Option<Shallow>; MAX_KEPT] = Default::default();
                while let Some(KeptKey(place, _)) = map.next_key::<KeptKey<K>>()? {
                    let Some(place) = place else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    let key = K::KEYS[place];
                    let Some(field) = fields.get_mut(place) else {
                        return Err(de::Error::custom(format_args!(
                            "`{key}`: at most {MAX_KEPT} keys are kept"
                        )));
                    };
                    if field.is_some() {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    *field = Some(map.next_value()?);
                }
                Ok(StrOrObject::Object(fields, PhantomData))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrOrObject::Str(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StrOrObject::Other("an array"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StrOrObject::Other("null"))
            }
            scalars_are_other!(self, kind => StrOrObject::Other(kind));
        }
        d.deserialize_any(V::<K>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct IdKeys;
    impl Keys for IdKeys {
        const KEYS: &'static [&'static str] = &["id"];
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct FiveKeys;
    impl Keys for FiveKeys {
        const KEYS: &'static [&'static str] = &["a", "b", "c", "d", "e"];
    }

    #[test]
    fn an_object_keeps_its_kept_keys_by_place_and_refuses_more_than_it_can_hold() {
        let mut item: StrOrObject<FiveKeys> =
            serde_json::from_str(r#"{"d": "4", "x": 1, "a": null}"#).expect("object");
        assert_eq!(item.get("a"), Some(&Shallow::Null));
        assert_eq!(item.get("b"), None);
        assert_eq!(item.get("x"), None, "not kept");
        assert_eq!(item.take("d"), Some(Shallow::Str("4".into())));
        assert_eq!(item.take("d"), None, "taken");
        let err = serde_json::from_str::<StrOrObject<FiveKeys>>(r#"{"e": 1}"#).expect_err("fifth");
        assert!(err.to_string().contains("at most 4 keys"), "{err}");
    }

    #[test]
    fn lists_stop_at_their_limit_and_keys_may_not_repeat() {
        let ok: Bounded<Shallow, 2> = serde_json::from_str(r#"["a", null]"#).expect("two");
        assert_eq!(ok.0, vec![Shallow::Str("a".into()), Shallow::Null]);
        let err = serde_json::from_str::<Bounded<Shallow, 2>>(r#"["a", 1, [2]]"#).expect_err("three");
        assert!(err.to_string().contains("more than 2"), "{err}");
        let dup = serde_json::from_str::<StrOrObject<IdKeys>>(r#"{"id": "a", "id": "b"}"#);
        assert!(dup.expect_err("dup").to_string().contains("duplicate field `id`"));
        let item: StrOrObject<IdKeys> =
            serde_json::from_str(r#"{"x": [[[{}]]], "id": "a"}"#).expect("object");
        assert_eq!(item.get("id"), Some(&Shallow::Str("a".into())));
        let list: StrOrList<Shallow, 3> = serde_json::from_str(r#"{"a": 1}"#).expect("other");
        assert_eq!(list, StrOrList::Other("an object"));
    }
}
