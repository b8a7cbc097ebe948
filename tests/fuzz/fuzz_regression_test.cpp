// The fuzz targets' inputs in the normal test suite: every file of each seed corpus
// (fuzz/corpus/<target>/) and every input a fuzzer found a bug with
// (tests/fuzz_regressions/<target>/) goes through the same entry point as its fuzz target
// (fuzz/<target>_fuzzer.cpp), which must return or throw the documented error: GraphError for
// graph files, DataError for IDX files, CheckpointError for checkpoints. A crash fails the
// run; any other exception fails the test. The findings also have tests below that check the
// message each now gets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/io/checkpoint.hpp"
#include "opgraph/io/idx.hpp"
#include "test_sessions.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = OPGRAPH_SOURCE_DIR;

// One input of one target: where it lies, and a test name made of its origin and file name.
struct FuzzInput {
    fs::path file;
    std::string name;
};

// gtest prints a parameter in test listings: its file, not its bytes.
void PrintTo(const FuzzInput& input, std::ostream* os) { *os << input.file.string(); }

std::vector<FuzzInput> inputs_of(const std::string& target) {
    std::vector<FuzzInput> inputs;
    const std::pair<const char*, fs::path> sources[] = {
        {"seed", kSourceDir / "fuzz" / "corpus" / target},
        {"finding", kSourceDir / "tests" / "fuzz_regressions" / target}};
    for (const auto& [origin, dir] : sources) {
        if (!fs::is_directory(dir)) continue;
        std::vector<fs::path> files;
        for (const fs::directory_entry& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file()) files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& file : files) {
            std::string name = std::string(origin) + "_" + file.filename().string();
            for (char& c : name)
                if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
            inputs.push_back({file, name});
        }
    }
    return inputs;
}

std::string test_name(const ::testing::TestParamInfo<FuzzInput>& info) { return info.param.name; }

// Runs `read` on the input; passes when it returns or throws `Expected`.
template <typename Expected, typename Read>
void expect_clean_outcome(const fs::path& file, Read read) {
    try {
        read(file);
    } catch (const Expected&) {
    } catch (const std::exception& e) {
        ADD_FAILURE() << file << ": an undocumented exception escaped: " << e.what();
    }
}

// ---- Every corpus input and every finding.

class ModelFileInput : public ::testing::TestWithParam<FuzzInput> {};
class IdxInput : public ::testing::TestWithParam<FuzzInput> {};
class CheckpointInput : public ::testing::TestWithParam<FuzzInput> {};

TEST_P(ModelFileInput, LoadsOrThrowsGraphError) {
    expect_clean_outcome<opgraph::GraphError>(GetParam().file, [](const fs::path& file) {
        opgraph::load_model_file(file, opgraph::testing::core_session().ops(),
                                 opgraph::testing::training_specs());
    });
}

TEST_P(IdxInput, ReadsOrThrowsDataError) {
    expect_clean_outcome<opgraph::DataError>(GetParam().file, [](const fs::path& file) {
        const opgraph::IdxArray array = opgraph::read_idx(file);
        EXPECT_EQ(array.bytes.size(),
                  static_cast<std::size_t>(array.count()) * opgraph::idx_element_size(array.type));
    });
}

TEST_P(CheckpointInput, ReadsOrThrowsCheckpointError) {
    expect_clean_outcome<opgraph::CheckpointError>(
        GetParam().file, [](const fs::path& file) { opgraph::read_checkpoint(file); });
}

INSTANTIATE_TEST_SUITE_P(FuzzRegression, ModelFileInput,
                         ::testing::ValuesIn(inputs_of("model_file")), test_name);
INSTANTIATE_TEST_SUITE_P(FuzzRegression, IdxInput, ::testing::ValuesIn(inputs_of("idx")),
                         test_name);
INSTANTIATE_TEST_SUITE_P(FuzzRegression, CheckpointInput,
                         ::testing::ValuesIn(inputs_of("checkpoint")), test_name);

// ---- Each finding, with the error it now gets.

const opgraph::OpRegistry& core_ops() { return opgraph::testing::core_session().ops(); }

// The GraphError parse_model throws for `text` ("" and a failure when it loads).
std::string graph_error(const std::string& text, const std::string& file) {
    try {
        opgraph::parse_model(text, file, core_ops(), opgraph::testing::training_specs());
    } catch (const opgraph::GraphError& e) {
        return e.what();
    }
    ADD_FAILURE() << file << " loaded";
    return {};
}

// Scalars were classified with std::regex, whose libstdc++ matcher recurses once per
// character: a number some 100,000 digits long overflowed the stack (found while writing the
// model-file target; 64 KiB fuzz inputs stay below the depth that crashes).
TEST(FuzzRegression, MillionDigitScalarDoesNotOverflowTheStack) {
    const std::string text = "model:\n  name: " + std::string(1'000'000, '7') + "\n";
    const std::string error = graph_error(text, "long.yaml");
    EXPECT_NE(error.find("long.yaml:2:9: error: node 'model': attribute 'name': expects a "
                         "string, got int 7777"),
              std::string::npos)
        << error.substr(0, 300);
}

TEST(FuzzRegression, MillionCharacterRealAndStringScalarsAreClassified) {
    const std::string real = "1." + std::string(1'000'000, '5') + "e3";
    const std::string text = "model:\n  name: " + real + "\n  inputs: {x: [4]}\n  layers:\n" +
                             "    - {op: dropout, rate: " + real + "}\n" +
                             "    - {op: dense, units: " + std::string(1'000'000, 'u') + "}\n";
    const std::string error = graph_error(text, "long.yaml");
    EXPECT_NE(error.find("long.yaml:2:9: error: node 'model': attribute 'name': expects a "
                         "string, got float 1.555"),
              std::string::npos)
        << error.substr(0, 300);
    EXPECT_NE(error.find("attribute 'units': expects an int, got string 'uuu"), std::string::npos);
}

// The line scan before yaml-cpp recognised block scalar headers ("key: |") with a regex: a
// million-character comment after one overflowed the stack the same way.
TEST(FuzzRegression, BlockScalarHeaderWithAMillionCharacterCommentLoads) {
    const std::string text = "model:\n  name: >  #" + std::string(1'000'000, 'x') +
                             "\n    tiny\n  inputs: {x: [4]}\n  layers:\n    - {op: relu}\n";
    const opgraph::ModelFile model =
        opgraph::parse_model(text, "long.yaml", core_ops(), opgraph::testing::training_specs());
    EXPECT_EQ(model.graph.name, "tiny\n");
}

fs::path finding(const std::string& target, const std::string& name) {
    return kSourceDir / "tests" / "fuzz_regressions" / target / name;
}

// An anchor used inside its own definition ("d: &d [*c, *d, *d, *d]") makes the document
// infinite. The walk that expands aliases refused it after a million nodes, but the label it
// kept for each item (d[1][1][1]...) grew with the item's depth: memory and time quadratic in
// the depth, over 2 GB (found by the model-file fuzzer).
TEST(FuzzRegression, AnchorUsedInsideItselfIsRefusedQuicklyAndInBoundedMemory) {
    const fs::path file = finding("model_file", "recursive_alias.yaml");
    const auto start = std::chrono::steady_clock::now();
    try {
        opgraph::load_model_file(file, core_ops(), opgraph::testing::training_specs());
        ADD_FAILURE() << file << " loaded";
    } catch (const opgraph::GraphError& e) {
        EXPECT_NE(std::string(e.what()).find("through aliases; refusing it"), std::string::npos)
            << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// The CheckpointError read_checkpoint throws for `file` ("" and a failure when it reads).
std::string checkpoint_error(const fs::path& file) {
    try {
        opgraph::read_checkpoint(file);
    } catch (const opgraph::CheckpointError& e) {
        return e.what();
    }
    ADD_FAILURE() << file << " was read";
    return {};
}

// A number too large for a double ("1940e524", a checksum whose quotes a mutation removed)
// made nlohmann::json throw out_of_range, which escaped the reader.
TEST(FuzzRegression, NumberOverflowInTheSafetensorsHeaderIsACheckpointError) {
    const std::string error =
        checkpoint_error(finding("checkpoint", "number_overflow_in_header.safetensors"));
    EXPECT_NE(error.find("number_overflow_in_header.safetensors: byte 8: header is not valid "
                         "JSON"),
              std::string::npos)
        << error;
}

// A float where an integer size belongs was converted to an integer: undefined behaviour for
// 1e300 (UBSan: outside the range of representable values).
TEST(FuzzRegression, FloatDataOffsetsAreRefused) {
    const std::string error =
        checkpoint_error(finding("checkpoint", "float_data_offset.safetensors"));
    EXPECT_NE(error.find("tensor 'w': data_offsets is not a pair of non-negative integers"),
              std::string::npos)
        << error;
}

TEST(FuzzRegression, FloatDimensionsAreRefused) {
    const std::string error =
        checkpoint_error(finding("checkpoint", "float_dimension.safetensors"));
    EXPECT_NE(error.find("tensor 'w': shape is not a list of non-negative integers"),
              std::string::npos)
        << error;
}

// Every tensor of a header could name the same bytes: the overlap was found only after each
// had been allocated and read, so a 1 MiB file with a thousand such tensors took 1 GiB.
// Together, tensors that do not overlap fit in the data section; that is checked first.
TEST(FuzzRegression, ManyTensorsOverTheSameBytesAreRefusedBeforeAllocating) {
    constexpr int kTensors = 1000;
    constexpr std::uint64_t kDataBytes = 4096;
    std::string header = "{";
    for (int i = 0; i < kTensors; ++i)
        header += std::string(i ? "," : "") + "\"t" + std::to_string(i) +
                  "\":{\"dtype\":\"F32\",\"shape\":[1024],\"data_offsets\":[0,4096]}";
    header += "}";
    const fs::path file = fs::temp_directory_path() / "fuzz_regression_overlap.safetensors";
    {
        std::ofstream out(file, std::ios::binary);
        const std::uint64_t length = header.size();
        out.write(reinterpret_cast<const char*>(&length), sizeof length);
        out << header << std::string(kDataBytes, '\0');
    }
    const std::string error = checkpoint_error(file);
    fs::remove(file);
    EXPECT_NE(error.find("tensors overlap in the data section"), std::string::npos) << error;
}

}  // namespace
