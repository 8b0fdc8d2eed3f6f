// `pat = x.recv()` is read as the channel receive `recv(x) -> pat`; for another type's `recv`,
// parentheses keep a general branch: `pat = (x.recv())`.
struct Countdown(u32);

impl Countdown {
    fn recv(&self) -> u32 {
        self.0 - 1
    }
}

fn main() {
    let countdown = Countdown(3);
    let _ = may::select! {
        n = countdown.recv() => n,
    };
}
