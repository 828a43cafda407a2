//! Kernel parameter structs declared once.
//!
//! [`params!`] declares a parameter struct whose fields are integer scalars or `bool`
//! ("words"), optionally after fields the caller builds ("given": a `Window2d`...), and
//! implements [`Params`] for it: its name, the module it lives in, its field names in
//! declaration order, and [`Params::from_parts`] / [`Params::from_words`], which build it
//! from one `i32` per word field (in that order), checking that each word fits its
//! field's type. The Python extension builds kernel parameters from the compiler's word
//! lists this way and exports the field lists, from which the compiler writes the
//! firmware's struct literals (`arielml.lower.base.params_lit`): host checks and firmware
//! read the same words by the same names. Nothing here allocates; the firmware only uses
//! the structs (the impl is dead code there).
use core::fmt;

/// A parameter struct built from `i32` words, one per field in declaration order, after
/// its `GIVEN` fields (structs and slices the caller builds, such as a `Window2d`).
pub trait Params: Sized {
    /// The struct's name, as Rust spells it.
    const NAME: &'static str;
    /// The module that declares it (`arielml_kernels::activations`).
    const PATH: &'static str;
    /// Fields not made of words, set by the caller (`from_parts`); empty for most.
    const GIVEN: &'static [&'static str];
    /// Word fields in declaration order: word `i` goes into `FIELDS[i]`.
    const FIELDS: &'static [&'static str];
    /// Word field types (`i32`, `i16`, `usize`, `bool`...), in the same order.
    const TYPES: &'static [&'static str];
    /// The `GIVEN` fields' values as a tuple, `()` when there are none.
    type Given;

    /// The struct with the given fields and field `FIELDS[i]` set to `words[i]`; an error
    /// when the count is not `FIELDS.len()` or a word does not fit its field's type.
    fn from_parts(given: Self::Given, words: &[i32]) -> Result<Self, ParamsError>;

    /// What `from_parts` checks of `words`, without building the struct.
    fn check_words(words: &[i32]) -> Result<(), ParamsError>;

    /// `from_parts` of a struct without given fields.
    fn from_words(words: &[i32]) -> Result<Self, ParamsError>
    where
        Self: Params<Given = ()>,
    {
        Self::from_parts((), words)
    }
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

impl Word for bool {
    #[inline]
    fn from_word(v: i32) -> Option<Self> {
        match v {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// Word `v` as field `field` of struct `name`, or a range error. Used by [`params!`].
#[inline]
pub fn narrow<T: Word>(name: &'static str, field: &'static str, ty: &'static str, v: i32) -> Result<T, ParamsError> {
    T::from_word(v).ok_or(ParamsError::Range { name, field, ty, value: v })
}

/// Declares a parameter struct and its [`Params`] impl. Fields are integer scalars or
/// `bool` (one word each, declaration order), optionally after a `given { .. }` block of
/// fields the caller builds (`from_parts((window,), words)`). All fields are `pub`;
/// attributes and doc comments on the struct and its fields are kept.
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
/// arielml_kernels::params! {
///     pub struct WithShape {
///         given { pub shape: arielml_kernels::Shape4 }
///         pub offset: i32,
///     }
/// }
/// use arielml_kernels::params::Params;
/// assert_eq!(ExampleParams::FIELDS, &["zero_point", "multiplier"]);
/// assert_eq!(ExampleParams::from_words(&[3, 7]).unwrap().multiplier, 7);
/// assert!(ExampleParams::from_words(&[3, 1 << 20]).is_err());
/// assert_eq!((WithShape::GIVEN, WithShape::FIELDS), (&["shape"][..], &["offset"][..]));
/// let s = arielml_kernels::Shape4::new(1, 2, 3, 4);
/// assert_eq!(WithShape::from_parts((s,), &[-9]).unwrap().offset, -9);
/// ```
#[macro_export]
macro_rules! params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            given { $( $(#[$gmeta:meta])* pub $given:ident : $gty:ty ),* $(,)? }
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$gmeta])* pub $given: $gty, )*
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::params::Params for $name {
            const NAME: &'static str = stringify!($name);
            const PATH: &'static str = module_path!();
            const GIVEN: &'static [&'static str] = &[$(stringify!($given)),*];
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
            const TYPES: &'static [&'static str] = &[$(stringify!($ty)),*];
            type Given = ($($gty,)*);

            fn from_parts(given: Self::Given, words: &[i32]) -> Result<Self, $crate::params::ParamsError> {
                let want = <Self as $crate::params::Params>::FIELDS.len();
                if words.len() != want {
                    return Err($crate::params::ParamsError::Count { name: stringify!($name), want, got: words.len() });
                }
                let ($($given,)*) = given;
                let mut words = words.iter().copied();
                // Fields are initialised in the order written, which is declaration order.
                Ok($name {
                    $( $given, )*
                    $( $field: $crate::params::narrow(
                        stringify!($name), stringify!($field), stringify!($ty), words.next().unwrap_or_default(),
                    )?, )*
                })
            }

            fn check_words(words: &[i32]) -> Result<(), $crate::params::ParamsError> {
                let want = <Self as $crate::params::Params>::FIELDS.len();
                if words.len() != want {
                    return Err($crate::params::ParamsError::Count { name: stringify!($name), want, got: words.len() });
                }
                let mut words = words.iter().copied();
                $( let _: $ty = $crate::params::narrow(
                    stringify!($name), stringify!($field), stringify!($ty), words.next().unwrap_or_default(),
                )?; )*
                Ok(())
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $crate::params! {
            $(#[$meta])*
            pub struct $name {
                given {}
                $( $(#[$fmeta])* pub $field: $ty, )*
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
        assert!(Mixed::GIVEN.is_empty());
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
        assert_eq!(Mixed::check_words(&[0, 0, 0, 256]), range("d", "u8", 256).map(|_: Mixed| ()));
        assert_eq!(Mixed::check_words(&[0, 0, 0, 255]), Ok(()));
    }

    params! {
        #[derive(Debug, PartialEq)]
        pub struct WithGiven {
            given {
                /// built by the caller
                pub shape: crate::Shape4,
                pub name: &'static str,
            }
            pub flag: bool,
            pub offset: i8,
        }
    }

    #[test]
    fn given_fields_come_from_the_caller_and_words_fill_the_rest() {
        assert_eq!((WithGiven::GIVEN, WithGiven::FIELDS), (&["shape", "name"][..], &["flag", "offset"][..]));
        let s = crate::Shape4::new(1, 2, 3, 4);
        let p = WithGiven::from_parts((s, "x"), &[1, -128]).unwrap();
        assert_eq!(p, WithGiven { shape: s, name: "x", flag: true, offset: -128 });
        let err = WithGiven::from_parts((s, "x"), &[2, 0]).unwrap_err();
        assert_eq!(err, ParamsError::Range { name: "WithGiven", field: "flag", ty: "bool", value: 2 });
        assert!(WithGiven::from_parts((s, "x"), &[0]).is_err());
    }
}
