//! `Select::send`/`recv` and `select!` take channels of messages that are not `Send` (as
//! crossbeam-channel's do), and a `Select` stays `Send + Sync` whatever it holds.

use std::rc::Rc;

use may::select::Select;
use may::sync::mpmc;

fn assert_send_sync<T: Send + Sync>(_: &T) {}

#[test]
fn rc_messages_through_select_and_select_macro() {
    let shared = Rc::new(5u32);
    let (tx, rx) = mpmc::bounded::<Rc<u32>>(1);

    let mut sel = Select::new();
    let send = sel.send(&tx);
    let recv = sel.recv(&rx);
    assert_send_sync(&sel);
    let oper = sel.select();
    assert_eq!(oper.index(), send, "only the send is ready");
    oper.send(&tx, shared.clone()).unwrap();
    let oper = sel.select();
    assert_eq!(
        oper.index(),
        recv,
        "the buffer is full: only the receive is ready"
    );
    let got = oper.recv(&rx).unwrap();
    assert_eq!((*got, Rc::strong_count(&shared)), (5, 2));
    drop(got);

    let sum = may::select! {
        send(tx, shared.clone()) -> res => { res.unwrap(); *rx.recv().unwrap() }
    };
    assert_eq!(sum, 5);
    assert_eq!(Rc::strong_count(&shared), 1, "every clone was dropped once");
}
