//! `strongroom.BlindIndex`: a blind-index definition (FORMAT.md 13), and the
//! conversions of index values between Python and the core.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use strongroom::blind_index::{BlindIndex as CoreIndex, IndexValue};
use strongroom::root::Argon2Params;
use strongroom::{ErrorKind, Transform};

use crate::{core_err, raise};

/// A blind-index definition: its name, the keyring key it derives from,
/// its width in bits, its fields with their transforms, and whether it is
/// slow (Argon2id). Immutable and hashable by value; changing any part
/// gives an unrelated index.
///
/// `BlindIndex("email_idx", key="pii", bits=32, transforms=["trim", "nfc",
/// "casefold"])` indexes one field; `fields=[("last_name", ["casefold"]),
/// ("birth_date", ["digits", "first:4"])]` a compound of several (pass one
/// value per field, in order). `slow=True` uses the recommended Argon2id
/// parameters (19 MiB, 2 passes, 1 lane), or pass `(m_cost_kib, t_cost,
/// p_cost)`.
#[pyclass(frozen, eq, hash, module = "strongroom")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct BlindIndex {
    pub(crate) inner: HashableIndex,
}

/// The core definition, compared and hashed by its canonical encoding.
pub(crate) struct HashableIndex(pub(crate) CoreIndex);

impl PartialEq for HashableIndex {
    fn eq(&self, other: &Self) -> bool {
        self.0.key_name() == other.0.key_name()
            && self.0.definition_encoding() == other.0.definition_encoding()
    }
}

impl Eq for HashableIndex {}

impl core::hash::Hash for HashableIndex {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.key_name().hash(state);
        self.0.definition_encoding().hash(state);
    }
}

fn transforms_of(names: &[String]) -> PyResult<Vec<Transform>> {
    names
        .iter()
        .map(|t| Transform::parse(t).map_err(core_err))
        .collect()
}

fn slow_of(slow: &Bound<'_, PyAny>) -> PyResult<Option<Argon2Params>> {
    if slow.is_none() {
        return Ok(None);
    }
    if let Ok(flag) = slow.extract::<bool>() {
        return Ok(flag.then_some(CoreIndex::SLOW_DEFAULT));
    }
    let (m_cost_kib, t_cost, p_cost): (u32, u32, u32) = slow.extract().map_err(|_| {
        raise(
            ErrorKind::InvalidArgument,
            "slow is a bool or (m_cost_kib, t_cost, p_cost)".into(),
        )
    })?;
    Ok(Some(Argon2Params {
        m_cost_kib,
        t_cost,
        p_cost,
    }))
}

#[pymethods]
impl BlindIndex {
    #[new]
    #[pyo3(signature = (name, *, key, bits=32, transforms=None, fields=None, slow=None))]
    fn new(
        name: &str,
        key: &str,
        bits: u16,
        transforms: Option<Vec<String>>,
        fields: Option<Vec<(String, Vec<String>)>>,
        slow: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut b = CoreIndex::builder(name, key).bits(bits);
        match (transforms, fields) {
            (Some(_), Some(_)) => {
                return Err(raise(
                    ErrorKind::InvalidArgument,
                    "pass transforms (one field) or fields, not both".into(),
                ));
            }
            (None, Some(fields)) => {
                for (field, ts) in &fields {
                    b = b.field(field, &transforms_of(ts)?);
                }
            }
            (ts, None) => {
                let ts = transforms_of(&ts.unwrap_or_default())?;
                b = b.field(strongroom::blind_index::SINGLE_FIELD_NAME, &ts);
            }
        }
        if let Some(slow) = slow
            && let Some(params) = slow_of(slow)?
        {
            b = b.slow(params);
        }
        Ok(Self {
            inner: HashableIndex(b.build().map_err(core_err)?),
        })
    }

    /// The index's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.0.name()
    }

    /// The keyring key it derives from.
    #[getter]
    fn key(&self) -> &str {
        self.inner.0.key_name()
    }

    /// Its width in bits.
    #[getter]
    fn bits(&self) -> u16 {
        self.inner.0.bits()
    }

    /// `(m_cost_kib, t_cost, p_cost)` of a slow index, or None.
    #[getter]
    fn slow(&self) -> Option<(u32, u32, u32)> {
        self.inner
            .0
            .slow()
            .map(|p| (p.m_cost_kib, p.t_cost, p.p_cost))
    }

    /// `[(field name, [transform, ...]), ...]`, in order.
    #[getter]
    fn fields(&self) -> Vec<(String, Vec<String>)> {
        self.inner
            .0
            .fields()
            .iter()
            .map(|f| {
                (
                    f.name().into(),
                    f.transforms().iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    /// The length of its binary values.
    #[getter]
    fn value_len(&self) -> usize {
        self.inner.0.value_len()
    }

    /// The canonical definition encoding (FORMAT.md 13.2).
    fn definition_encoding<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.0.definition_encoding())
    }

    /// The key version a stored value (bytes or `"sbi1:..."` text) was
    /// computed under, after checking its encoding (FORMAT.md 13.5, 13.6).
    fn value_version(&self, value: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(value_of(&self.inner.0, value)?.version())
    }

    fn __repr__(&self) -> String {
        let i = &self.inner.0;
        format!(
            "BlindIndex({:?}, key={:?}, bits={}, fields={:?}, slow={:?})",
            i.name(),
            i.key_name(),
            i.bits(),
            self.fields(),
            self.slow()
        )
    }
}

/// A stored value, `bytes` or text, parsed for `index`.
pub(crate) fn value_of(index: &CoreIndex, value: &Bound<'_, PyAny>) -> PyResult<IndexValue> {
    if let Ok(text) = value.cast::<PyString>() {
        let text: String = text.extract()?;
        return IndexValue::from_text(index, &text).map_err(core_err);
    }
    let bytes: Vec<u8> = value.extract().map_err(|_| {
        raise(
            ErrorKind::InvalidArgument,
            "an index value is bytes or its \"sbi1:\" text".into(),
        )
    })?;
    IndexValue::parse(index, &bytes).map_err(core_err)
}

/// A value as Python returns it: `bytes`, or its text with `text=True`.
pub(crate) fn value_out<'py>(py: Python<'py>, value: &IndexValue, text: bool) -> Bound<'py, PyAny> {
    if text {
        PyString::new(py, &value.to_text()).into_any()
    } else {
        PyBytes::new(py, value.as_bytes()).into_any()
    }
}

/// The smallest width at which a lookup among `rows` rows expects at most
/// `false_positives` rows matching by coincidence (rows / 2**bits).
#[pyfunction]
#[pyo3(signature = (rows, false_positives=1.0))]
pub(crate) fn recommended_index_bits(rows: u64, false_positives: f64) -> PyResult<u16> {
    strongroom::blind_index::recommended_bits(rows, false_positives).map_err(core_err)
}

/// The expected number of coincidental matches per lookup among `rows`
/// rows at `bits` bits, under one key version.
#[pyfunction]
pub(crate) fn expected_false_positives(rows: u64, bits: u16) -> f64 {
    strongroom::blind_index::expected_false_positives(rows, bits)
}
