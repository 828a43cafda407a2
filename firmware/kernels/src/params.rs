//! Kernel parameter structs declared once.
//!
//! [`params!`] declares a parameter struct whose fields are all integer scalars and
//! implements [`Params`] for it: its name, the module it lives in, its field names in
//! declaration order, and [`Params::from_words`], which builds it from one `i32` per field
//! (in that order), checking that each word fits its field's type. The Python extension
//! builds kernel parameters from the compiler's word lists through `from_words` and
//! exports the field lists, from which the compiler writes the firmware's struct literals
//! (`arielml.lower.base.params_lit`): host checks and firmware read the same words by the
//! same names. Nothing here allocates; the firmware only uses the structs.
use core::fmt;

/// A parameter struct built from `i32` words, one per field in declaration order.
pub trait Params: Sized {
    /// The struct's name, as Rust spells it.
    const NAME: &'static str;
    /// The module that declares it (`arielml_kernels::activations`).
    const PATH: &'static str;
    /// Field names in declaration order: `from_words` reads word `i` into `FIELDS[i]`.
    const FIELDS: &'static [&'static str];
    /// Field types (`i32`, `i16`, `usize`...), in the same order.
    const TYPES: &'static [&'static str];

    /// The struct with field `FIELDS[i]` set to `words[i]`; an error when the count is
    /// not `FIELDS.len()` or a word does not fit its field's type.
    fn from_words(words: &[i32]) -> Result<Self, ParamsError>;
}

/// Why words do not make a parameter struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsError {
    /// `got` words for a struct of `want` fields.
    Count { name: &'static str, want: usize, got: usize },
    /// `value` does not fit field `field` (of type `ty`).
    Range { name: &'static str, field: &'static str, ty: &'static str, value: i32 },
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamsError::Count { name, want, got } => write!(f, "{name} takes {want} params, got {got}"),
            ParamsError::Range { name, field, ty, value } => {
                write!(f, "{name}.{field} is {ty}: {value} does not fit")
            }
        }
    }
}

/// A field type a word narrows to (exactly, or not at all).
pub trait Word: Sized {
    fn from_word(v: i32) -> Option<Self>;
}

macro_rules! word_by_try_from {
    ($($t:ty),*) => {
        $(impl Word for $t {
            #[inline]
            fn from_word(v: i32) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
        })*
    };
}
word_by_try_from!(i32, i16, i8, u32, u16, u8, usize);

/// Word `v` as field `field` of struct `name`, or a range error. Used by [`params!`].
#[inline]
pub fn narrow<T: Word>(name: &'static str, field: &'static str, ty: &'static str, v: i32) -> Result<T, ParamsError> {
    T::from_word(v).ok_or(ParamsError::Range { name, field, ty, value: v })
}

/// Declares a parameter struct of integer scalar fields (all `pub`) and its [`Params`]
/// impl. Attributes and doc comments on the struct and its fields are kept.
///
/// ```
/// arielml_kernels::params! {
///     /// Example.
///     #[derive(Debug)]
///     pub struct ExampleParams {
///         pub zero_point: i32,
///         pub multiplier: i16,
///     }
/// }
/// use arielml_kernels::params::Params;
/// assert_eq!(ExampleParams::FIELDS, &["zero_point", "multiplier"]);
/// assert_eq!(ExampleParams::from_words(&[3, 7]).unwrap().multiplier, 7);
/// assert!(ExampleParams::from_words(&[3, 1 << 20]).is_err());
/// ```
#[macro_export]
macro_rules! params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::params::Params for $name {
            const NAME: &'static str = stringify!($name);
            const PATH: &'static str = module_path!();
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
            const TYPES: &'static [&'static str] = &[$(stringify!($ty)),*];

            fn from_words(words: &[i32]) -> Result<Self, $crate::params::ParamsError> {
                let want = <Self as $crate::params::Params>::FIELDS.len();
                if words.len() != want {
                    return Err($crate::params::ParamsError::Count { name: stringify!($name), want, got: words.len() });
                }
                let mut words = words.iter().copied();
                // Fields are initialised in the order written, which is declaration order.
                Ok($name {
                    $( $field: $crate::params::narrow(
                        stringify!($name), stringify!($field), stringify!($ty), words.next().unwrap_or_default(),
                    )?, )*
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{Params, ParamsError};

    params! {
        #[derive(Debug, PartialEq)]
        pub struct Mixed {
            pub a: i32,
            /// narrowed
            pub b: i16,
            pub c: usize,
            pub d: u8,
        }
    }

    #[test]
    fn words_fill_fields_in_declaration_order() {
        assert_eq!(Mixed::NAME, "Mixed");
        assert_eq!(Mixed::PATH, "arielml_kernels::params::tests");
        assert_eq!(Mixed::FIELDS, &["a", "b", "c", "d"]);
        assert_eq!(Mixed::TYPES, &["i32", "i16", "usize", "u8"]);
        assert_eq!(Mixed::from_words(&[-5, -300, 7, 255]), Ok(Mixed { a: -5, b: -300, c: 7, d: 255 }));
    }

    #[test]
    fn wrong_count_and_out_of_range_words_are_errors() {
        assert_eq!(Mixed::from_words(&[1, 2, 3]), Err(ParamsError::Count { name: "Mixed", want: 4, got: 3 }));
        assert_eq!(Mixed::from_words(&[1, 2, 3, 4, 5]).unwrap_err(), ParamsError::Count { name: "Mixed", want: 4, got: 5 });
        let range = |field, ty, value| Err(ParamsError::Range { name: "Mixed", field, ty, value });
        assert_eq!(Mixed::from_words(&[0, 1 << 15, 0, 0]), range("b", "i16", 1 << 15));
        assert_eq!(Mixed::from_words(&[0, 0, -1, 0]), range("c", "usize", -1));
        assert_eq!(Mixed::from_words(&[0, 0, 0, 256]), range("d", "u8", 256));
    }
}
