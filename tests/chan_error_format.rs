//! The channel and select errors print as crossbeam-channel's do: the same `Display` texts and
//! `Debug` forms (a message inside an error is not shown), honouring width and alignment.

use may::select::{ReadyTimeoutError, SelectTimeoutError, TryReadyError, TrySelectError};
use may::sync::mpmc::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// A message type without `Debug`.
struct Opaque;

fn shown(err: &(impl std::fmt::Display + std::fmt::Debug)) -> (String, String) {
    (err.to_string(), format!("{err:?}"))
}

#[test]
fn display_and_debug() {
    let cases = [
        (
            shown(&SendError(Opaque)),
            ("sending on a disconnected channel", "SendError(..)"),
        ),
        (
            shown(&TrySendError::Full(Opaque)),
            ("sending on a full channel", "Full(..)"),
        ),
        (
            shown(&TrySendError::Disconnected(Opaque)),
            ("sending on a disconnected channel", "Disconnected(..)"),
        ),
        (
            shown(&SendTimeoutError::Timeout(Opaque)),
            (
                "timed out waiting on send operation",
                "SendTimeoutError(..)",
            ),
        ),
        (
            shown(&SendTimeoutError::Disconnected(Opaque)),
            ("sending on a disconnected channel", "SendTimeoutError(..)"),
        ),
        (
            shown(&RecvError),
            (
                "receiving on an empty and disconnected channel",
                "RecvError",
            ),
        ),
        (
            shown(&TryRecvError::Empty),
            ("receiving on an empty channel", "Empty"),
        ),
        (
            shown(&TryRecvError::Disconnected),
            (
                "receiving on an empty and disconnected channel",
                "Disconnected",
            ),
        ),
        (
            shown(&RecvTimeoutError::Timeout),
            ("timed out waiting on receive operation", "Timeout"),
        ),
        (
            shown(&RecvTimeoutError::Disconnected),
            ("channel is empty and disconnected", "Disconnected"),
        ),
        (
            shown(&TrySelectError),
            ("all operations in select would block", "TrySelectError"),
        ),
        (
            shown(&SelectTimeoutError),
            ("timed out waiting on select", "SelectTimeoutError"),
        ),
        (
            shown(&TryReadyError),
            ("all operations in select would block", "TryReadyError"),
        ),
        (
            shown(&ReadyTimeoutError),
            ("timed out waiting on ready", "ReadyTimeoutError"),
        ),
    ];
    for ((display, debug), (want_display, want_debug)) in &cases {
        assert_eq!(
            (display.as_str(), debug.as_str()),
            (*want_display, *want_debug)
        );
    }
    assert_eq!(cases.len(), 14);
}

#[test]
fn width_and_alignment_apply() {
    assert_eq!(format!("[{:>13?}]", SendError(Opaque)), "[SendError(..)]");
    assert_eq!(format!("[{:>15?}]", SendError(Opaque)), "[  SendError(..)]");
    assert_eq!(
        format!("[{:<10?}]", TrySendError::Full(Opaque)),
        "[Full(..)  ]"
    );
    assert_eq!(
        format!("[{:^30}]", RecvError),
        "[receiving on an empty and disconnected channel]"
    );
    assert_eq!(
        format!("[{:^33}]", TryRecvError::Empty),
        "[  receiving on an empty channel  ]"
    );
}
