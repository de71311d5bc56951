//! Where PINs come from: a prompt that does not echo (a person at a terminal), or lines on
//! a file descriptor the caller opened (`--pin-fd 3 3<pin.txt`). Never the command line or
//! the environment, which other users of the machine can read.
//!
//! A PIN is checked here against the same rules the flow applies before it is sent, so a
//! person gets a precise answer at once and a script's unusable PIN ends the run cleanly.

use tap2key_flow::{Intent, PinProblem, PinRules, SecretText, pin_policy};
use zeroize::Zeroizing;

use crate::{outcome::Stop, render, terminal};

/// Longer than any PIN a key takes (63 bytes), so a PIN line never has to grow its buffer:
/// growing would leave a copy of the PIN behind in freed memory.
const MAX_LINE: usize = 256;

pub enum PinSource {
    /// A person at a terminal, asked without echo.
    Prompt,
    /// Lines read from a file descriptor.
    Lines(Lines),
}

/// Why no PIN could be had.
#[derive(Debug)]
pub enum PinError {
    /// The lines (or the terminal) ended.
    Ended,
    Unreadable(String),
    /// A PIN from lines that the rules refuse: asking again is for people.
    NotAccepted(PinProblem),
}

impl From<PinError> for Stop {
    fn from(error: PinError) -> Self {
        match error {
            PinError::Ended => Stop::PinInputEnded,
            PinError::Unreadable(message) => Stop::PinInputUnreadable { message },
            PinError::NotAccepted(problem) => Stop::PinNotAccepted { problem },
        }
    }
}

impl PinSource {
    /// `--pin-fd N`, or else a prompt if standard input is a terminal (rpassword asks on the
    /// terminal itself, so this is "a person is here").
    pub fn new(pin_fd: Option<i32>) -> Result<Self, Stop> {
        use std::io::IsTerminal;
        match pin_fd {
            Some(fd) => Lines::open(fd).map(Self::Lines),
            None if std::io::stdin().is_terminal() => Ok(Self::Prompt),
            None => Err(Stop::NoPinSource),
        }
    }

    pub fn is_interactive(&self) -> bool {
        matches!(self, Self::Prompt)
    }

    /// A new PIN for a blank key.
    pub fn choose(&mut self, rules: &PinRules) -> Result<Intent, PinError> {
        match self {
            Self::Lines(lines) => {
                let mut pin = lines.next()?;
                rules.check_new(&pin, &pin).map_err(PinError::NotAccepted)?;
                let pin = SecretText::new(std::mem::take(&mut *pin));
                Ok(Intent::ChoosePin { again: pin.clone(), pin })
            }
            Self::Prompt => loop {
                let mut pin = ask(&format!("Choose a PIN for the key (at least {} characters): ", rules.min_length))?;
                let mut again = ask("Type the same PIN again: ")?;
                match rules.check_new(&pin, &again) {
                    Ok(_) => return Ok(Intent::ChoosePin { pin: take(&mut pin), again: take(&mut again) }),
                    Err(problem) => eprintln!("{}", render::pin_problem(&problem)),
                }
            },
        }
    }

    /// The key's PIN.
    pub fn enter(&mut self) -> Result<Intent, PinError> {
        match self {
            Self::Lines(lines) => {
                let mut pin = lines.next()?;
                pin_policy::check_existing(&pin).map_err(PinError::NotAccepted)?;
                Ok(Intent::EnterPin { pin: take(&mut pin) })
            }
            Self::Prompt => loop {
                let mut pin = ask("The key's PIN: ")?;
                match pin_policy::check_existing(&pin) {
                    Ok(_) => return Ok(Intent::EnterPin { pin: take(&mut pin) }),
                    Err(problem) => eprintln!("{}", render::pin_problem(&problem)),
                }
            },
        }
    }

    /// The current PIN and a new one, when the key demands a change.
    pub fn change(&mut self, rules: &PinRules) -> Result<Intent, PinError> {
        match self {
            Self::Lines(lines) => {
                let mut current = lines.next()?;
                let mut new = lines.next()?;
                check_change(rules, &current, &new, &new).map_err(PinError::NotAccepted)?;
                let new = take(&mut new);
                Ok(Intent::ChangePin { current: take(&mut current), again: new.clone(), new })
            }
            Self::Prompt => loop {
                let mut current = ask("The key's current PIN: ")?;
                let mut new = ask(&format!("A new PIN (at least {} characters): ", rules.min_length))?;
                let mut again = ask("Type the new PIN again: ")?;
                match check_change(rules, &current, &new, &again) {
                    Ok(()) => return Ok(Intent::ChangePin { current: take(&mut current), new: take(&mut new), again: take(&mut again) }),
                    Err(problem) => eprintln!("{}", render::pin_problem(&problem)),
                }
            },
        }
    }
}

/// The flow's own checks for a PIN change, in its order.
fn check_change(rules: &PinRules, current: &str, new: &str, again: &str) -> Result<(), PinProblem> {
    let current = pin_policy::check_existing(current)?;
    let new = rules.check_new(new, again)?;
    if new.as_str() == current.as_str() { Err(PinProblem::SameAsCurrent) } else { Ok(()) }
}

/// Moves the text into a `SecretText` without copying it.
fn take(text: &mut Zeroizing<String>) -> SecretText {
    SecretText::new(std::mem::take(&mut **text))
}

fn ask(prompt: &str) -> Result<Zeroizing<String>, PinError> {
    terminal::remember();
    let answer = rpassword::prompt_password(prompt);
    terminal::forget();
    match answer {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Err(PinError::Ended),
        Err(error) => Err(PinError::Unreadable(format!("the PIN could not be read from the terminal: {error}"))),
    }
}

/// Lines from a file descriptor, read byte by byte: a buffered reader would keep a copy of
/// the PIN in a buffer that nobody wipes.
pub struct Lines {
    #[cfg(unix)]
    file: std::fs::File,
}

impl Lines {
    #[cfg(unix)]
    fn open(fd: i32) -> Result<Self, Stop> {
        use std::os::fd::FromRawFd;
        // SAFETY: F_GETFD only asks whether the descriptor is open; it changes nothing.
        if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            return Err(Stop::usage(format!("--pin-fd {fd}: no such file descriptor is open")));
        }
        // SAFETY: fd is open (checked above), and the caller handed it to this program to read the PIN
        // from: nothing else here uses it (for --pin-fd 0, the prompt is not used and stdin is not read).
        let file = unsafe { std::fs::File::from_raw_fd(fd) };
        if std::io::IsTerminal::is_terminal(&file) {
            // Typing there would show the PIN on the screen.
            return Err(Stop::usage(format!("--pin-fd {fd} is a terminal: leave --pin-fd out to be asked for the PIN without echo")));
        }
        Ok(Self { file })
    }

    #[cfg(not(unix))]
    fn open(_fd: i32) -> Result<Self, Stop> {
        Err(Stop::usage("--pin-fd works on Linux and macOS only"))
    }

    /// The next line, without its line ending.
    #[cfg(unix)]
    fn next(&mut self) -> Result<Zeroizing<String>, PinError> {
        use std::io::Read;
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_LINE));
        // The last byte read is a piece of the PIN too.
        let mut byte = Zeroizing::new([0u8; 1]);
        let mut ended = true;
        loop {
            match self.file.read(&mut *byte) {
                Ok(0) => break,
                Ok(_) if byte[0] == b'\n' => {
                    ended = false;
                    break;
                }
                Ok(_) if bytes.len() == MAX_LINE => {
                    return Err(PinError::Unreadable("a line on --pin-fd is longer than any PIN".into()));
                }
                Ok(_) => bytes.push(byte[0]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(PinError::Unreadable(format!("the PIN could not be read from --pin-fd: {error}"))),
            }
        }
        if ended && bytes.is_empty() {
            return Err(PinError::Ended);
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(error) => {
                drop(Zeroizing::new(error.into_bytes()));
                Err(PinError::Unreadable("the PIN on --pin-fd is not UTF-8 text".into()))
            }
        }
    }

    #[cfg(not(unix))]
    fn next(&mut self) -> Result<Zeroizing<String>, PinError> {
        Err(PinError::Ended)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::{io::Write, os::fd::IntoRawFd};

    use super::*;

    fn lines(text: &str) -> Lines {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("tap2key-pin-lines-{}-{n}", std::process::id()));
        std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
        let fd = std::fs::File::open(&path).unwrap().into_raw_fd();
        std::fs::remove_file(&path).unwrap();
        Lines::open(fd).ok().unwrap()
    }

    #[test]
    fn lines_lose_their_endings_and_end() {
        let mut pins = lines("480257\r\n 592 013\nlast");
        assert_eq!(pins.next().unwrap().as_str(), "480257");
        assert_eq!(pins.next().unwrap().as_str(), " 592 013");
        assert_eq!(pins.next().unwrap().as_str(), "last");
        assert!(matches!(pins.next(), Err(PinError::Ended)));
    }

    #[test]
    fn pins_from_lines_meet_the_rules_before_they_are_sent() {
        let rules = tap2key_flow::PinPolicy::default().rules(4);
        let mut source = PinSource::Lines(lines("123456\n"));
        assert!(matches!(source.choose(&rules), Err(PinError::NotAccepted(PinProblem::TooObvious))));
        let mut source = PinSource::Lines(lines("480257\n592013\n"));
        assert!(matches!(source.change(&rules), Ok(Intent::ChangePin { .. })));
        let mut source = PinSource::Lines(lines("480257\n"));
        assert!(matches!(source.change(&rules), Err(PinError::Ended)));
    }

    #[test]
    fn a_closed_descriptor_is_a_usage_error() {
        assert!(matches!(Lines::open(-1), Err(Stop::Usage { .. })));
        assert!(matches!(Lines::open(987_654), Err(Stop::Usage { .. })));
    }
}
