//! The progress bar for large files: drawn on stderr only when stderr is a
//! terminal, the input's size is known and at least [`MIN_BYTES`], and
//! `--no-progress` is not given. Pipes, logs and CI see nothing.

use std::io::{IsTerminal, Read};

use indicatif::{ProgressBar, ProgressBarIter, ProgressDrawTarget, ProgressStyle};

/// Smallest input that gets a bar: smaller files finish before one helps.
pub(crate) const MIN_BYTES: u64 = 16 << 20;

/// Clears the bar when the command ends, on success or failure, so an
/// error message starts on a clean line.
pub(crate) struct Bar(Option<ProgressBar>);

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Wraps `input` (of `len` bytes, if known) so reading it advances a bar
/// labelled `what`, when a bar is wanted; returns the reader and the guard.
pub(crate) fn track<'a>(
    input: Box<dyn Read + 'a>,
    len: Option<u64>,
    enabled: bool,
    what: &'static str,
) -> (Box<dyn Read + 'a>, Bar) {
    let wanted = enabled && std::io::stderr().is_terminal();
    let Some(len) = len.filter(|l| wanted && *l >= MIN_BYTES) else {
        return (input, Bar(None));
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        // `wide_bar` takes what the terminal's width leaves, so the line
        // never wraps (the fixed parts take about 60 columns).
        "{msg} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    // Draw at once, not only at the first rate-limited update.
    bar.tick();
    let reader: ProgressBarIter<Box<dyn Read + 'a>> = bar.wrap_read(input);
    (Box::new(reader), Bar(Some(bar)))
}
