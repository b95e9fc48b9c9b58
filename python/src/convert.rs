//! JSON values ↔ Python objects, directly (no text in between) and losslessly: objects are
//! dicts, arrays lists, integers ints, other numbers floats.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::{IntoPyObject, IntoPyObjectExt};
use serde_json::{Map, Number, Value};

/// How deep a Python value may nest: deeper is refused (a cycle would recurse forever).
const MAX_DEPTH: usize = 200;

/// A JSON value handed to Python as plain objects.
#[derive(Debug)]
pub(crate) struct Json(pub(crate) Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }
}

/// A JSON value as a Python object.
pub(crate) fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Value::Null => Ok(py.None().into_bound(py)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::Number(n) => number(py, n),
        Value::String(s) => s.into_bound_py_any(py),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            Ok(list.into_any())
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_python(py, item)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

fn number<'py>(py: Python<'py>, n: &Number) -> PyResult<Bound<'py, PyAny>> {
    if let Some(i) = n.as_i64() {
        i.into_bound_py_any(py)
    } else if let Some(u) = n.as_u64() {
        u.into_bound_py_any(py)
    } else {
        n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py)
    }
}

/// A Python object as JSON: dicts with string keys, lists, tuples, strings, ints, finite
/// floats, booleans and None. Anything else is a `TypeError` naming where it was found.
pub(crate) fn from_python(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(value, "", 0)
}

fn convert(value: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "the value nests more than {MAX_DEPTH} levels deep at {} (is it cyclic?)",
            shown(path)
        )));
    }
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: True is an int in Python.
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if value.cast::<PyInt>().is_ok() {
        return integer(value, path);
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{v} at {} is not a JSON number (JSON has no NaN or infinity)",
                shown(path)
            ))
        });
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "a key at {} is {}, not str: JSON object keys are strings",
                    shown(path),
                    type_name(&key)
                )));
            };
            let key = key.to_str()?.to_owned();
            let item = convert(&item, &format!("{path}/{key}"), depth + 1)?;
            map.insert(key, item);
        }
        return Ok(Value::Object(map));
    }
    if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
        let mut items = Vec::new();
        for (i, item) in value.try_iter()?.enumerate() {
            items.push(convert(&item?, &format!("{path}/{i}"), depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{} at {} is not JSON-serialisable (use dicts, lists, str, int, float, bool, None)",
        type_name(value),
        shown(path)
    )))
}

fn integer(value: &Bound<'_, PyAny>, path: &str) -> PyResult<Value> {
    if let Ok(i) = value.extract::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = value.extract::<u64>() {
        return Ok(Value::from(u));
    }
    Err(PyValueError::new_err(format!(
        "the integer at {} does not fit in 64 bits",
        shown(path)
    )))
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| format!("a value of type {n}"))
        .unwrap_or_else(|_| "a value".to_owned())
}

/// Seconds as a `Duration`: positive and finite, else a `ValueError` naming the option.
pub(crate) fn seconds(option: &str, value: f64) -> PyResult<std::time::Duration> {
    if value.is_finite() && value > 0.0 {
        std::time::Duration::try_from_secs_f64(value)
            .map_err(|e| PyValueError::new_err(format!("{option}: {e}")))
    } else {
        Err(PyValueError::new_err(format!(
            "{option} must be a positive number of seconds, not {value}"
        )))
    }
}
