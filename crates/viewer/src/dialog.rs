//! Native file dialogs: whether one can be shown here at all.

/// Whether a native file dialog can show: rfd's portal needs a D-Bus session (or a Wayland
/// desktop). Without one the views offer a path field instead.
pub(crate) fn available() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
}
