use evonet_envs::numpy_random::RandomState;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/numpy-random-state.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Every draw equals numpy's, bit for bit, in the recorded order.
#[test]
fn random_state_reproduces_numpy() {
    let f = fixture();
    let draws = f["draws"].as_array().unwrap();
    assert!(draws.len() >= 5);
    for d in draws {
        let seed = d["seed"].as_u64().unwrap();
        let mut r = RandomState::new(seed as u32);
        let got: Vec<f64> = (0..20).map(|_| r.rand()).collect();
        assert_eq!(got, floats(&d["rand"]), "seed {seed}: rand");
        let got: Vec<i64> = (0..20).map(|_| r.randint(0, 10)).collect();
        assert_eq!(got, ints(&d["randint_0_10"]), "seed {seed}: randint(0, 10)");
        let got: Vec<i64> = (0..10).map(|_| r.randint(-3, 7)).collect();
        assert_eq!(got, ints(&d["randint_m3_7"]), "seed {seed}: randint(-3, 7)");
        let got: Vec<i64> = (0..10).map(|_| r.randint(0, 1 << 40)).collect();
        assert_eq!(
            got,
            ints(&d["randint_0_2p40"]),
            "seed {seed}: randint(0, 2**40)"
        );
        let got: Vec<i64> = (0..10).map(|_| r.choice(3) as i64).collect();
        assert_eq!(got, ints(&d["choice_3"]), "seed {seed}: choice");
        let got: Vec<i64> = (0..5).map(|_| r.randint(5, 6)).collect();
        assert_eq!(got, ints(&d["randint_5_6"]), "seed {seed}: randint(5, 6)");
        let got: Vec<f64> = (0..5).map(|_| r.rand()).collect();
        assert_eq!(got, floats(&d["rand_after"]), "seed {seed}: rand after");
    }
}
