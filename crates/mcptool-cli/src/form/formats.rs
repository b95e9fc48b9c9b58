//! The string formats an elicitation schema may name (`email`, `uri`, `date`, `date-time`),
//! checked closely enough to catch a typo before the server sees it.

/// Checks `input` against `format`; an unknown format accepts anything.
pub(crate) fn check(format: &str, input: &str) -> Result<(), String> {
    let ok = match format {
        "email" => email(input),
        "uri" => reqwest::Url::parse(input).is_ok(),
        "date" => date(input),
        "date-time" => date_time(input),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(match format {
            "email" => "an email address, such as ada@example.org".to_owned(),
            "uri" => "an absolute URI, such as https://example.org/".to_owned(),
            "date" => "a date, YYYY-MM-DD".to_owned(),
            _ => "a date and time, such as 2026-07-28T09:30:00Z".to_owned(),
        })
    }
}

/// `local@domain.tld`: one `@`, no spaces, a dot inside the domain.
fn email(input: &str) -> bool {
    let Some((local, domain)) = input.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !input.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.ends_with('.'))
}

/// `YYYY-MM-DD`, a real calendar day.
fn date(input: &str) -> bool {
    let parts: Vec<&str> = input.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (year.parse::<u32>(), month.parse(), day.parse::<u32>())
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// RFC 3339: `DATE` `T` `HH:MM:SS[.frac]` then `Z` or `±HH:MM`.
fn date_time(input: &str) -> bool {
    let Some((day, time)) = input.split_once(['T', 't']) else {
        return false;
    };
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => return false,
    };
    let offset_ok = matches!(offset, "Z" | "z") || (offset.len() == 6 && hh_mm(&offset[1..], 23));
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    // ASCII first, so the byte slices below fall on character boundaries.
    let seconds_ok = whole.is_ascii()
        && whole.len() == 8
        && hh_mm(&whole[..5], 23)
        && whole.as_bytes()[5] == b':'
        && whole[6..].parse::<u32>().is_ok_and(|s| s <= 60)
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit());
    date(day) && offset_ok && seconds_ok
}

/// `HH:MM` with hours up to `max_hour`.
fn hh_mm(text: &str, max_hour: u32) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    let two = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    two(h)
        && two(m)
        && h.parse::<u32>().is_ok_and(|h| h <= max_hour)
        && m.parse::<u32>().is_ok_and(|m| m <= 59)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_takes_good_values_and_refuses_typos() {
        for (format, good, bad) in [
            ("email", "ada@example.org", "ada@example"),
            ("uri", "https://example.org/x", "example.org"),
            ("date", "2024-02-29", "2023-02-29"),
            (
                "date-time",
                "2026-07-28T09:30:00.5+02:00",
                "2026-07-28 09:30",
            ),
        ] {
            assert_eq!(check(format, good), Ok(()), "{format} {good}");
            assert!(check(format, bad).is_err(), "{format} {bad}");
        }
        assert!(check("date-time", "2026-07-28T24:00:00Z").is_err());
        assert!(check("hostname", "anything at all").is_ok());
    }
}
