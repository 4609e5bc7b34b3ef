//! The one way to declare a closed set that is stored or sent as text: `as_str`, `parse`,
//! `ALL` and `Display` agree with the serde names by construction, so the database, the
//! JSON of the CLI and the logs can never spell a value two ways.

/// Declares a closed, string-backed enumeration with `ALL`, `as_str`, `parse` and
/// `Display`, all agreeing with its serde names. Further derives (e.g. `PartialOrd`) may
/// be added as attributes before `pub enum`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            #[must_use]
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_enum;

stored_enum! {
    /// How an error is handled, by the PTV client that sorts it and by the store that keeps
    /// it with the item.
    pub enum ErrorClass {
        /// Will fail the same way until the source data or configuration changes.
        Terminal => "terminal",
        /// Worth retrying (network, 5xx, 429).
        Transient => "transient",
        /// A person must act in PTV's user interface (permissions, a PTV-side conflict).
        NeedsPerson => "needs_person",
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorClass;
    use crate::model::{Action, Outcome};

    /// `as_str`, `parse`, `Display` and serde agree on every value.
    macro_rules! agree {
        ($($name:ident),+) => {$(
            for v in $name::ALL {
                assert_eq!($name::parse(v.as_str()), Some(v));
                assert_eq!(v.to_string(), v.as_str());
                assert_eq!(
                    serde_json::to_value(v).unwrap(),
                    serde_json::Value::String(v.as_str().to_owned())
                );
            }
        )+};
    }

    #[test]
    fn text_serde_and_parse_agree() {
        agree!(ErrorClass, Action, Outcome);
        assert_eq!(ErrorClass::parse("Terminal"), None);
    }
}
