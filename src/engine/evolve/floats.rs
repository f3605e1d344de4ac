//! Exact serde for the floats of evolution checkpoints and configurations.
//!
//! serde_json's default number parser is not correctly rounded: about one double in five comes
//! back one ulp off, which would make a resumed evolution drift from an uninterrupted one. The
//! crate is built with serde_json's `float_roundtrip` parser, so a finite f64 is written as a
//! plain JSON number (its shortest round-trip decimal) and read back bit for bit. JSON has no
//! infinities or NaN: those are written as the strings "inf", "-inf", "NaN". Strings holding a
//! number are accepted on input too, so checkpoints written by earlier versions (which stored
//! every float as a string) still load.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One f64 as a string or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Exact(f64);

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else {
            serializer.collect_str(&format_args!("{:?}", self.0))
        }
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExactVisitor)
    }
}

struct ExactVisitor;

impl Visitor<'_> for ExactVisitor {
    type Value = Exact;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number or a string holding a decimal number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Exact, E> {
        v.trim()
            .parse()
            .map(Exact)
            .map_err(|_| E::custom(format!("not a number: {v:?}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Exact, E> {
        Ok(Exact(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Exact, E> {
        Ok(Exact(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Exact, E> {
        Ok(Exact(v as f64))
    }
}

/// `#[serde(with = "floats::scalar")]` for an `f64`.
pub mod scalar {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        Exact(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Exact::deserialize(d).map(|e| e.0)
    }
}

/// `#[serde(with = "floats::option")]` for an `Option<f64>` (null when absent).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(Exact).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<Exact>::deserialize(d)?.map(|e| e.0))
    }
}

/// `#[serde(with = "floats::vec")]` for a `Vec<f64>`.
pub mod vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| Exact(x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Exact>::deserialize(d)?
            .into_iter()
            .map(|e| e.0)
            .collect())
    }
}

/// `#[serde(with = "floats::option_vec")]` for an `Option<Vec<f64>>`.
pub mod option_vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|v| v.iter().map(|&x| Exact(x)).collect::<Vec<_>>())
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        Ok(Option::<Vec<Exact>>::deserialize(d)?.map(|v| v.into_iter().map(|e| e.0).collect()))
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::engine::rng::stream;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "scalar")]
        a: f64,
        #[serde(with = "vec")]
        b: Vec<f64>,
        #[serde(with = "option_vec")]
        c: Option<Vec<f64>>,
        #[serde(with = "option")]
        d: Option<f64>,
    }

    #[test]
    fn random_doubles_round_trip_bit_for_bit() {
        let mut rng = stream(9, &[]);
        let values: Vec<f64> = (0..20_000)
            .map(|k| {
                let bits = rng.next_u64();
                if k % 2 == 0 {
                    f64::from_bits(bits)
                } else {
                    (bits >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0
                }
            })
            .filter(|v| v.is_finite())
            .chain([0.0, -0.0, f64::INFINITY, f64::MIN_POSITIVE, 5e-324])
            .collect();
        let sample = Sample {
            a: values[1],
            b: values.clone(),
            c: Some(values.clone()),
            d: Some(values[3]),
        };
        let text = serde_json::to_string(&sample).unwrap();
        let back: Sample = serde_json::from_str(&text).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.b), bits(&values));
        assert_eq!(bits(back.c.as_ref().unwrap()), bits(&values));
        assert_eq!(back.a.to_bits(), values[1].to_bits());
        assert_eq!(back.d.map(f64::to_bits), Some(values[3].to_bits()));
    }

    #[test]
    fn plain_numbers_and_nulls_are_accepted() {
        let text = r#"{"a": 1.5, "b": [1, -2, 0.25], "c": null, "d": null}"#;
        let s: Sample = serde_json::from_str(text).unwrap();
        assert_eq!(
            s,
            Sample {
                a: 1.5,
                b: vec![1.0, -2.0, 0.25],
                c: None,
                d: None
            }
        );
        assert!(
            serde_json::from_str::<Sample>(r#"{"a": "x", "b": [], "c": null, "d": null}"#).is_err()
        );
    }

    #[test]
    fn finite_floats_are_json_numbers_and_strings_of_old_checkpoints_still_load() {
        let sample = Sample {
            a: 7.348469228349534,
            b: vec![0.1, f64::INFINITY],
            c: None,
            d: Some(-3e-7),
        };
        let value = serde_json::to_value(&sample).unwrap();
        assert_eq!(value["a"], serde_json::json!(7.348469228349534));
        assert_eq!(value["b"], serde_json::json!([0.1, "inf"]));
        assert_eq!(value["d"], serde_json::json!(-3e-7));
        let old = r#"{"a": "7.348469228349534", "b": ["0.1", "inf"], "c": null, "d": "-3e-7"}"#;
        assert_eq!(serde_json::from_str::<Sample>(old).unwrap(), sample);
    }
}
