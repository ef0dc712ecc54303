//! The page around the drawings: escaping, the document shell, the KPI table and the script.

use std::fmt::{self, Write};

use super::style;

/// Text made safe for HTML text and for attribute values in double or single quotes: `&`, `<`,
/// `>`, `"` and `'` become character references. Control characters other than tab and newline
/// (which HTML cannot carry) become U+FFFD.
#[derive(Debug, Clone, Copy)]
pub(super) struct Esc<'a>(pub(super) &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| needs_escape(c)) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{fffd}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "\u{fffd}",
            })?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'')
        || (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{fdd0}'..='\u{fdef}' | '\u{fffe}' | '\u{ffff}')
}

/// Runs after the page is drawn; the page does not need it. Hovering a drop-off on the map or its
/// dot on the chart outlines both. `data-ready` tells a test that it ran to the end.
const SCRIPT: &str = r#"(function () {
  "use strict";
  var byOrder = new Map();
  document.querySelectorAll("[data-order]").forEach(function (el) {
    var key = el.getAttribute("data-order");
    if (!byOrder.has(key)) byOrder.set(key, []);
    byOrder.get(key).push(el);
  });
  function mark(on) {
    return function (event) {
      var els = byOrder.get(event.currentTarget.getAttribute("data-order")) || [];
      els.forEach(function (el) { el.classList.toggle("hl", on); });
    };
  }
  byOrder.forEach(function (els) {
    els.forEach(function (el) {
      el.addEventListener("mouseenter", mark(true));
      el.addEventListener("mouseleave", mark(false));
    });
  });
  document.body.dataset.ready = "1";
})();"#;

/// Writes `<!DOCTYPE html>` through the opening `<body>`.
pub(super) fn open(out: &mut String, title: &str) -> fmt::Result {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n",
        Esc(title)
    )?;
    style::stylesheet(out)?;
    write!(out, "</style>\n</head>\n<body>\n<h1>{}</h1>\n", Esc(title))
}

/// Writes the script and closes the document.
pub(super) fn close(out: &mut String) -> fmt::Result {
    write!(out, "<script>\n{SCRIPT}\n</script>\n</body>\n</html>\n")
}

/// The key figures as a two-column table, or a line saying there are none.
pub(super) fn kpi_table(out: &mut String, kpis: &[(String, String)]) -> fmt::Result {
    out.push_str("<section id=\"kpis\">\n");
    if kpis.is_empty() {
        out.push_str("<p class=\"note\">No key figures.</p>\n");
    } else {
        out.push_str("<table class=\"kpis\">\n<tbody>\n");
        for (label, value) in kpis {
            writeln!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                Esc(label),
                Esc(value)
            )?;
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

/// A legend: one coloured swatch per entry, `(class of the swatch, label)`.
pub(super) fn legend(out: &mut String, title: &str, entries: &[(&str, &str)]) -> fmt::Result {
    write!(
        out,
        "<div class=\"legend\"><span class=\"legend-title\">{}</span>",
        Esc(title)
    )?;
    for (class, label) in entries {
        write!(
            out,
            "<span class=\"key\"><i class=\"swatch {}\"></i>{}</span>",
            Esc(class),
            Esc(label)
        )?;
    }
    out.push_str("</div>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            Esc(r#"<o&1 "x" 'y'>"#).to_string(),
            "&lt;o&amp;1 &quot;x&quot; &#39;y&#39;&gt;"
        );
        assert_eq!(
            Esc("plain, ünïcode → ok").to_string(),
            "plain, ünïcode → ok"
        );
        assert_eq!(
            Esc("a\u{0}b\u{7}c\nd").to_string(),
            "a\u{fffd}b\u{fffd}c\nd"
        );
        assert_eq!(Esc("").to_string(), "");
    }

    #[test]
    fn the_script_holds_no_closing_tag() {
        assert!(!SCRIPT.contains("</"));
    }
}
