//! `select!` over channels, a timer and a general blocking expression.
//!
//! Run: `cargo run --release -p may --example select`

use std::time::Duration;

use may::go;
use may::sync::mpmc;

#[may::main]
fn main() {
    let (numbers_tx, numbers) = mpmc::bounded::<u32>(4);
    let (words_tx, words) = mpmc::unbounded::<&'static str>();
    let producer = go!(move || {
        for i in 0..5 {
            numbers_tx.send(i).expect("numbers are received");
            may::coroutine::sleep(Duration::from_millis(2));
        }
    });
    words_tx.send("hello").expect("words are received");
    drop(words_tx);

    let (mut got_numbers, mut got_words, mut words_closed) = (0, 0, false);
    let ticker = mpmc::tick(Duration::from_millis(50));
    loop {
        may::select! {
            recv(numbers) -> n => match n {
                Ok(n) => got_numbers += n,
                Err(_) => break, // the producer finished
            },
            recv(words) -> w => match w {
                Ok(w) => { println!("word: {w}"); got_words += 1; }
                Err(_) => words_closed = true,
            },
            recv(ticker) -> _tick => println!("tick"),
        }
        if words_closed {
            // A closed channel is always ready; stop selecting on it by leaving this loop
            // phase and draining the rest of the numbers.
            for n in numbers.iter() {
                got_numbers += n;
            }
            break;
        }
    }
    producer.join().expect("the producer does not panic");
    assert_eq!(got_numbers, 10);
    assert_eq!(got_words, 1);

    // A general branch: any blocking expression, run in a child coroutine and cancelled if
    // another branch wins first.
    let (_never_tx, never) = mpmc::unbounded::<u32>();
    let computed = may::select! {
        recv(never) -> _n => 0,
        v = { may::coroutine::sleep(Duration::from_millis(10)); 42 } => v,
        default(Duration::from_secs(5)) => 1,
    };
    assert_eq!(computed, 42);
    println!("numbers summed to {got_numbers}; the general branch computed {computed}");
}
