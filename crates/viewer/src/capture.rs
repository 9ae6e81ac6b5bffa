//! File › Capture: the dialog (address, duration or custom URL, headers, captures folder)
//! and a capture running on a worker thread, whose progress the app polls each frame to
//! load the complete generations as they arrive (`LoadKind::CapturePrefix`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use egui::{Color32, RichText, Ui};
use goscope_capture::{Captured, Endpoint, Progress, Stop, Target, name, target};

/// Addresses remembered at most.
pub const MAX_ADDRESSES: usize = 8;

/// The Capture dialog's fields, kept between captures (and the addresses and folder
/// across runs).
#[derive(Clone, Debug)]
pub struct CaptureForm {
    /// The program's address, or the whole URL of a custom endpoint.
    pub address: String,
    /// Seconds for net/http/pprof's trace endpoint.
    pub seconds: u32,
    /// Fetch `address` as it is (a flight-recorder snapshot endpoint).
    pub custom: bool,
    /// Request headers, one `Name: value` a line.
    pub headers: String,
    /// The folder captures are saved in.
    pub dir: String,
    /// Addresses used before, latest first.
    pub addresses: Vec<String>,
    /// What is wrong with the fields, after a Capture click.
    pub problem: Option<String>,
}

impl Default for CaptureForm {
    fn default() -> Self {
        CaptureForm {
            address: target::DEFAULT_ADDRESS.into(),
            seconds: 5,
            custom: false,
            headers: String::new(),
            dir: name::default_dir().display().to_string(),
            addresses: Vec::new(),
            problem: None,
        }
    }
}

impl CaptureForm {
    /// The request the fields describe.
    pub fn target(&self) -> Result<Target, String> {
        let mut t = Target {
            address: self.address.trim().to_string(),
            endpoint: if self.custom {
                Endpoint::Custom
            } else {
                Endpoint::PprofTrace {
                    seconds: self.seconds.max(1),
                }
            },
            headers: Vec::new(),
        };
        for line in self.headers.lines().filter(|l| !l.trim().is_empty()) {
            t.headers.push(target::parse_header(line).map_err(|e| e.0)?);
        }
        t.url().map_err(|e| e.0)?;
        Ok(t)
    }

    /// Puts `address` first among the remembered ones.
    pub fn remember(&mut self, address: &str) {
        self.addresses.retain(|a| a != address);
        self.addresses.insert(0, address.to_string());
        self.addresses.truncate(MAX_ADDRESSES);
    }
}

/// What the dialog asks the app to do.
pub enum FormAction {
    None,
    Start(Target),
    Close,
}

/// The dialog's contents.
pub fn form_ui(ui: &mut Ui, form: &mut CaptureForm) -> FormAction {
    let mut action = FormAction::None;
    egui::Grid::new("capture-form")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            ui.label(if form.custom { "URL" } else { "Address" });
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut form.address)
                        .id_salt("capture-address")
                        .desired_width(300.0),
                );
                if !form.addresses.is_empty() {
                    ui.menu_button("Recent", |ui| {
                        for a in form.addresses.clone() {
                            if ui.button(&a).clicked() {
                                form.address = a;
                                ui.close();
                            }
                        }
                    })
                    .response
                    .on_hover_text("Addresses used before");
                }
            });
            ui.end_row();
            ui.label("Endpoint");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.radio_value(&mut form.custom, false, "/debug/pprof/trace for");
                    ui.add_enabled(
                        !form.custom,
                        egui::DragValue::new(&mut form.seconds)
                            .range(1..=3600)
                            .suffix(" s"),
                    );
                });
                ui.radio_value(
                    &mut form.custom,
                    true,
                    "a URL that answers with a trace (a flight-recorder snapshot)",
                );
            });
            ui.end_row();
            ui.label("Headers");
            ui.add(
                egui::TextEdit::multiline(&mut form.headers)
                    .id_salt("capture-headers")
                    .hint_text("Authorization: Bearer …")
                    .desired_rows(2)
                    .desired_width(300.0),
            );
            ui.end_row();
            ui.label("Save in");
            ui.add(
                egui::TextEdit::singleline(&mut form.dir)
                    .id_salt("capture-dir")
                    .desired_width(300.0),
            );
            ui.end_row();
        });
    if let Ok(t) = form.target() {
        if let Ok(url) = t.url() {
            ui.label(RichText::new(format!("GET {url}")).small().weak());
        }
    }
    if let Some(p) = &form.problem {
        ui.colored_label(Color32::from_rgb(240, 90, 90), p);
    }
    ui.horizontal(|ui| {
        if ui.button("Capture").clicked() {
            match form.target() {
                Ok(t) => {
                    form.problem = None;
                    action = FormAction::Start(t);
                }
                Err(e) => form.problem = Some(e),
            }
        }
        if ui.button("Cancel").clicked() {
            action = FormAction::Close;
        }
    });
    action
}

/// What the worker thread shares with the UI.
#[derive(Default)]
struct Shared {
    progress: Progress,
    /// Set once the capture ended: how (the error's message if it failed).
    end: Option<Result<Captured, String>>,
}

/// A capture running on a worker thread, saving to `path`.
pub struct Capturing {
    /// The file the bytes go to.
    pub path: PathBuf,
    /// The URL asked.
    pub url: String,
    /// The seconds asked for (none for a custom endpoint).
    pub seconds: Option<u32>,
    /// When the request was sent, in seconds since the Unix epoch.
    pub start_unix_s: i64,
    /// Generations loaded or being loaded into the window.
    pub shown_generations: usize,
    /// The window shows the capture as it arrives (until the user opens another trace;
    /// the capture then goes on into its file, which joins the recent files).
    pub shown: bool,
    /// The user asked to stop.
    pub stopping: bool,
    stop: Arc<Stop>,
    shared: Arc<Mutex<Shared>>,
}

impl Capturing {
    /// Creates the file in `dir` and starts asking `target` on a worker thread; `repaint`
    /// is called when a generation completes and when the capture ends.
    pub fn start(
        target: &Target,
        dir: &Path,
        repaint: impl Fn() + Send + 'static,
    ) -> Result<Capturing, String> {
        let url = target.url().map_err(|e| e.0)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot make the folder {}: {e}", dir.display()))?;
        let start_unix_s = name::unix_now_s();
        let path = name::unused_path(dir, &url, start_unix_s);
        let mut file = std::fs::File::create(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let stop = Arc::new(Stop::default());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (t, s, sh, p) = (target.clone(), stop.clone(), shared.clone(), path.clone());
        std::thread::Builder::new()
            .name("goscope-capture".into())
            .spawn(move || {
                let mut generations = 0;
                let r = goscope_capture::capture(&t, &mut file, &s, &mut |progress| {
                    if let Ok(mut g) = sh.lock() {
                        g.progress = *progress;
                    }
                    if progress.generations != generations {
                        generations = progress.generations;
                        repaint();
                    }
                });
                drop(file);
                let r = r.map_err(|e| {
                    let kept = e.progress().is_some_and(|p| p.received_bytes > 0);
                    if !kept {
                        let _ = std::fs::remove_file(&p);
                    }
                    e.to_string()
                });
                if let Ok(mut g) = sh.lock() {
                    if let Ok(done) = &r {
                        g.progress = done.progress;
                    }
                    g.end = Some(r);
                }
                repaint();
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(Capturing {
            path,
            url,
            seconds: target.seconds(),
            start_unix_s,
            shown_generations: 0,
            shown: true,
            stopping: false,
            stop,
            shared,
        })
    }

    /// Where the capture is.
    pub fn progress(&self) -> Progress {
        self.shared.lock().map(|g| g.progress).unwrap_or_default()
    }

    /// How it ended, once it has: at once after `stop`, with what the file holds.
    pub fn end(&self) -> Option<Result<Captured, String>> {
        let g = self.shared.lock().ok()?;
        if let Some(end) = &g.end {
            return Some(end.clone());
        }
        self.stopping.then(|| {
            Ok(Captured {
                progress: g.progress,
                stopped: true,
                version: None,
            })
        })
    }

    /// Stops the capture, keeping what has arrived: once this returns nothing more is
    /// written (the worker may still be waiting for a chunk it will drop).
    pub fn stop(&mut self) {
        self.stop.stop();
        self.stopping = true;
    }

    /// Whether any bytes of a file were kept.
    pub fn kept_a_file(&self) -> bool {
        self.path.exists()
    }
}
