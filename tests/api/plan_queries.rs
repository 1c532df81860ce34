//! Analysts' questions about the plan itself, answered from the loaded transcription.

use serde_json::{Value, json};

const PLAN: &str = "136/KH-UBND";

backend_test! {
    /// The appendix keeps its published numerals (no VI) and its task counts.
    async fn sections_keep_published_numerals_and_task_counts(app) {
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { sections { numeral position tasks { code number } } } }"#)
            .await;
        let sections = data["plan"]["sections"].as_array().unwrap();
        let numerals: Vec<&str> = sections.iter().map(|s| s["numeral"].as_str().unwrap()).collect();
        assert_eq!(numerals, ["I", "II", "III", "IV", "V", "VII"]);
        let counts: Vec<usize> = sections.iter().map(|s| s["tasks"].as_array().unwrap().len()).collect();
        assert_eq!(counts, [4, 3, 4, 3, 7, 5]);
        assert_eq!(counts.iter().sum::<usize>(), 26);
        assert_eq!(sections[5]["position"], 6);
        assert_eq!(sections[5]["tasks"][4]["code"], "VII.5");
        assert_eq!(sections[5]["tasks"][4]["number"], "5");
    }
}

backend_test! {
    async fn the_plan_header_is_faithful(app) {
        let data = app
            .query(
                r#"{ plan(code: "136/KH-UBND") {
                    code kind issuedOn issuer signer signerTitle title
                    basis { number kind issuedOn issuer }
                    purposes fundingSources
                    reportingDeadline { month day text viaAgency { code } toAgency { code } }
                } }"#,
            )
            .await;
        let plan = &data["plan"];
        assert_eq!(plan["code"], PLAN);
        assert_eq!(plan["kind"], "Kế hoạch");
        assert_eq!(plan["issuedOn"], "2022-04-21");
        assert_eq!(plan["issuer"], "Ủy ban nhân dân tỉnh Đồng Tháp");
        assert_eq!(plan["signer"], "Huỳnh Minh Tuấn");
        assert_eq!(plan["signerTitle"], "PHÓ CHỦ TỊCH", "as printed above the signature");
        assert!(plan["title"].as_str().unwrap().starts_with("Triển khai hoạt động khoa học và công nghệ"));
        assert_eq!(
            plan["basis"],
            json!({ "number": "911a/QĐ-UBND-HC", "kind": "Quyết định", "issuedOn": "2021-07-09", "issuer": "Ủy ban nhân dân Tỉnh" })
        );
        assert_eq!(plan["purposes"].as_array().unwrap().len(), 3);
        assert_eq!(plan["fundingSources"][0], "Vốn sự nghiệp KHCN của Tỉnh.");
        assert_eq!(plan["fundingSources"].as_array().unwrap().len(), 3);
        let deadline = &plan["reportingDeadline"];
        assert_eq!((deadline["month"].as_i64(), deadline["day"].as_i64()), (Some(12), Some(15)));
        assert!(deadline["text"].as_str().unwrap().contains("trước ngày 15 tháng 12 hàng năm"));
        assert_eq!(deadline["viaAgency"]["code"], "so-khcn");
        assert_eq!(deadline["toAgency"]["code"], "ubnd-tinh");
    }
}

backend_test! {
    async fn the_five_key_targets_carry_their_numbers(app) {
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { targets { key kind targetValue dueYear unit description } } }"#)
            .await;
        let targets = data["plan"]["targets"].as_array().unwrap();
        let keys: Vec<&str> = targets.iter().map(|t| t["key"].as_str().unwrap()).collect();
        assert_eq!(
            keys,
            ["ST_TASKS", "APPLICATION_MODELS", "STARTUPS", "IP_ABROAD", "TECHNOLOGY_ASSESSMENT"]
        );
        let values: Vec<Value> = targets.iter().map(|t| t["targetValue"].clone()).collect();
        assert_eq!(values, [json!(15), json!(20), json!(20), json!(1), Value::Null]);
        assert_eq!(targets[4]["kind"], "COMPLETION");
        assert_eq!(targets[0]["kind"], "COUNT");
        assert!(targets.iter().all(|t| t["dueYear"] == 2025));
        assert!(targets[3]["description"].as_str().unwrap().contains("ra nước ngoài"));
    }
}

backend_test! {
    async fn task_ii_3_has_its_five_sub_projects_as_children(app) {
        let data = app
            .query(r#"{ task(code: "II.3") { text children { code number text parent { code } leadAgency { code } } } }"#)
            .await;
        let children = data["task"]["children"].as_array().unwrap();
        let codes: Vec<&str> = children.iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["II.3.i", "II.3.ii", "II.3.iii", "II.3.iv", "II.3.v"]);
        assert_eq!(children[0]["number"], "(i)");
        assert_eq!(
            children[0]["text"],
            "Dự án đăng ký bảo hộ chỉ dẫn địa lý Cao Lãnh cho sản phẩm xoài tại Nhật Bản;"
        );
        assert!(children.iter().all(|c| c["parent"]["code"] == "II.3"));
        // The sub-project rows have empty cells: unknown, not inherited.
        assert!(children.iter().all(|c| c["leadAgency"].is_null()));

        let child = app.query(r#"{ task(code: "II.3.v") { section { numeral } parent { code } } }"#).await;
        assert_eq!(child["task"]["section"]["numeral"], "II");
    }
}

backend_test! {
    async fn empty_cells_of_tasks_v_5_to_v_7_are_null(app) {
        for code in ["V.5", "V.6", "V.7"] {
            let data = app
                .query_with(
                    "query($code: String!) { task(code: $code) { code text leadAgency { code } leadText coordinators { __typename } coordinatorsText deliverable timeline { text } } }",
                    json!({ "code": code }),
                )
                .await;
            let task = &data["task"];
            assert_eq!(task["code"], code);
            assert!(!task["text"].as_str().unwrap().is_empty());
            for field in ["leadAgency", "leadText", "coordinatorsText", "deliverable", "timeline"] {
                assert!(task[field].is_null(), "{code}.{field} should be null, got {}", task[field]);
            }
            assert_eq!(task["coordinators"], json!([]));
        }
    }
}

backend_test! {
    async fn tasks_name_their_lead_agencies(app) {
        let expected = [
            ("I.1", "so-khcn"),
            ("II.3", "so-khcn"),
            ("III.2", "so-cong-thuong"),
            ("VII.1", "so-cong-thuong"),
            ("VII.2", "so-vh-tt-dl"),
            ("VII.3", "so-nn-ptnt"),
            ("VII.4", "ubnd-lai-vung"),
            ("VII.5", "ubnd-tam-nong"),
        ];
        for (code, agency) in expected {
            let data = app
                .query_with(
                    "query($code: String!) { task(code: $code) { leadAgency { code } leadText } }",
                    json!({ "code": code }),
                )
                .await;
            assert_eq!(data["task"]["leadAgency"]["code"], agency, "lead of {code}");
        }
        // II.3's cell spells the department out in full; it is the same agency.
        let data = app.query(r#"{ task(code: "II.3") { leadText leadAgency { code } } }"#).await;
        assert_eq!(data["task"]["leadText"], "Sở Khoa học và Công nghệ");
        assert_eq!(data["task"]["leadAgency"]["code"], "so-khcn");
    }
}

backend_test! {
    async fn coordinator_cells_split_into_agencies_and_groups(app) {
        let data = app
            .query(
                r#"{ task(code: "I.4") {
                    coordinators { __typename ... on Agency { code } ... on AgencyGroup { code } }
                    coordinatorEntries { text note party { ... on Agency { code } } }
                } }"#,
            )
            .await;
        let coordinators = data["task"]["coordinators"].as_array().unwrap();
        assert_eq!(coordinators.len(), 6);
        assert!(coordinators.iter().all(|c| c["__typename"] == "Agency"));
        assert_eq!(coordinators[0]["code"], "mttq");
        assert_eq!(data["task"]["coordinatorEntries"][0]["note"], "Đề nghị");

        let data = app
            .query(
                r#"{ task(code: "I.3") { coordinators { __typename ... on AgencyGroup { code kind } } } }"#,
            )
            .await;
        assert_eq!(
            data["task"]["coordinators"],
            json!([
                { "__typename": "AgencyGroup", "code": "cac-so-nganh-tinh", "kind": "agencies" },
                { "__typename": "AgencyGroup", "code": "ubnd-huyen-thanh-pho", "kind": "localities" },
                { "__typename": "AgencyGroup", "code": "co-so-san-xuat-doanh-nghiep", "kind": "organisations" },
            ])
        );
    }
}

backend_test! {
    async fn both_spellings_of_the_department_resolve_to_one_agency(app) {
        let mut ids = Vec::new();
        for search in ["Sở KHCN", "Sở Khoa học và Công nghệ", "so khoa hoc va cong nghe", "SỞ KHCN"] {
            let data = app
                .query_with(
                    "query($s: String) { agencies(search: $s) { id code name aliases } }",
                    json!({ "s": search }),
                )
                .await;
            let found = data["agencies"].as_array().unwrap();
            assert_eq!(found.len(), 1, "search {search:?} found {found:?}");
            assert_eq!(found[0]["code"], "so-khcn");
            assert_eq!(found[0]["name"], "Sở Khoa học và Công nghệ");
            assert!(found[0]["aliases"].as_array().unwrap().contains(&json!("Sở KHCN")));
            ids.push(found[0]["id"].clone());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1);
    }
}

backend_test! {
    async fn agency_search_accepts_decomposed_input(app) {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "Sở Nông nghiệp và Phát triển nông thôn".nfd().collect();
        let data = app
            .query_with("query($s: String) { agencies(search: $s) { code } }", json!({ "s": nfd }))
            .await;
        assert_eq!(data["agencies"][0]["code"], "so-nn-ptnt");

        let data = app
            .query(r#"{ agencies(search: "doan thanh nien") { code } }"#)
            .await;
        assert_eq!(data["agencies"][0]["code"], "doan-thanh-nien");

        let all = app.query("{ agencies { code } }").await;
        assert!(all["agencies"].as_array().unwrap().len() >= 17);

        let none = app.query(r#"{ agencies(search: "không có cơ quan này") { code } }"#).await;
        assert_eq!(none["agencies"], json!([]));
    }
}

backend_test! {
    async fn agencies_list_the_tasks_they_lead_and_coordinate(app) {
        let data = app
            .query(r#"{ agency(code: "so-khcn") { leadTasks { code } coordinatedTasks { code } } }"#)
            .await;
        let lead: Vec<&str> = data["agency"]["leadTasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["code"].as_str().unwrap())
            .collect();
        assert_eq!(lead.len(), 17);
        assert!(lead.contains(&"I.1") && lead.contains(&"V.4") && !lead.contains(&"III.2"));
        let coordinated: Vec<&str> = data["agency"]["coordinatedTasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["code"].as_str().unwrap())
            .collect();
        assert_eq!(coordinated, ["III.2", "VII.1", "VII.2", "VII.3", "VII.4", "VII.5"]);
    }
}

backend_test! {
    async fn timelines_are_published_text_and_structure(app) {
        let data = app
            .query(r#"{ a: task(code: "III.3") { timeline { text recurring startYear endYear } }
                        b: task(code: "I.1") { timeline { text recurring startYear endYear } }
                        c: task(code: "III.4") { timeline { text recurring } } }"#)
            .await;
        assert_eq!(
            data["a"]["timeline"],
            json!({ "text": "2022 - 2023", "recurring": false, "startYear": 2022, "endYear": 2023 })
        );
        assert_eq!(
            data["b"]["timeline"],
            json!({ "text": "Thường xuyên hàng năm", "recurring": true, "startYear": null, "endYear": null })
        );
        assert_eq!(data["c"]["timeline"], json!({ "text": "Hàng năm", "recurring": true }));
    }
}

backend_test! {
    async fn referenced_documents_link_to_the_tasks_that_carry_them_out(app) {
        let data = app
            .query(r#"{ plan(code: "136/KH-UBND") { referencedDocuments { number } } }"#)
            .await;
        let numbers: Vec<&str> = data["plan"]["referencedDocuments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["number"].as_str().unwrap())
            .collect();
        assert_eq!(
            numbers,
            [
                "911a/QĐ-UBND-HC", "50/KHPH-SKHCN-LHH", "270/KH-UBND", "32/KH-UBND", "250/KH-UBND",
                "44/NQ-HĐND", "275/KH-UBND", "19/2018/QĐ-UBND", "105/KH-UBND"
            ]
        );
        let data = app
            .query(r#"{ task(code: "IV.2") { documents { number issuedOn kind tasks { code } } } }"#)
            .await;
        assert_eq!(
            data["task"]["documents"],
            json!([{ "number": "32/KH-UBND", "issuedOn": "2020-02-07", "kind": "Kế hoạch", "tasks": [{ "code": "IV.2" }] }])
        );
        let data = app
            .query(r#"{ legalDocument(number: "50/KHPH-SKHCN-LHH") { issuedOn tasks { code } } }"#)
            .await;
        assert_eq!(data["legalDocument"], json!({ "issuedOn": null, "tasks": [{ "code": "I.4" }] }));
    }
}

backend_test! {
    async fn unknown_codes_give_null_not_errors(app) {
        let data = app
            .query(r#"{ plan(code: "999/KH-UBND") { code } task(code: "VI.1") { code } agency(code: "nope") { code } legalDocument(number: "1/X") { number } }"#)
            .await;
        assert_eq!(
            data,
            json!({ "plan": null, "task": null, "agency": null, "legalDocument": null })
        );
        let data = app.query("{ plans { code } }").await;
        assert_eq!(data["plans"], json!([{ "code": PLAN }]));
    }
}
