// safetensors files: round trip, and every kind of damage refused with a clear message.
#include "opgraph/io/tensor_file.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "opgraph/core/error.hpp"

namespace {

namespace fs = std::filesystem;

class TensorFileTest : public ::testing::Test {
protected:
    fs::path dir = fs::temp_directory_path() /
                   ("opgraph_tensor_file_" +
                    std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    void SetUp() override { fs::create_directories(dir); }
    void TearDown() override { fs::remove_all(dir); }

    opgraph::TensorFile sample() const {
        opgraph::TensorFile f;
        f.metadata["graph"] = "abc";
        f.tensors.push_back({"conv/kernel", {2, 1, 1, 3}, {1, 2, 3, 4, 5, 6}});
        f.tensors.push_back({"bn/gamma", {3}, {0.5f, -1, 2}});
        return f;
    }

    // Writes raw bytes: an 8-byte little-endian header length, the header, then `data`.
    fs::path raw(const std::string& name, const std::string& header, std::size_t data_bytes,
                 std::uint64_t claimed_length = 0) {
        const fs::path file = dir / name;
        std::ofstream out(file, std::ios::binary);
        const std::uint64_t length = claimed_length ? claimed_length : header.size();
        out.write(reinterpret_cast<const char*>(&length), sizeof length);
        out << header << std::string(data_bytes, '\0');
        return file;
    }

    std::string refused(const fs::path& file) {
        try {
            opgraph::read_tensor_file(file);
        } catch (const opgraph::CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
            EXPECT_EQ(e.exit_code(), opgraph::ExitCode::invalid_checkpoint);
            return e.what();
        }
        ADD_FAILURE() << file << " was accepted";
        return {};
    }
};

TEST_F(TensorFileTest, RoundTrip) {
    const fs::path file = dir / "w.safetensors";
    opgraph::write_tensor_file(file, sample());
    const opgraph::TensorFile back = opgraph::read_tensor_file(file);
    EXPECT_EQ(back.metadata.at("graph"), "abc");
    ASSERT_NE(back.find("conv/kernel"), nullptr);
    EXPECT_EQ(back.find("conv/kernel")->shape, (opgraph::Shape{2, 1, 1, 3}));
    EXPECT_EQ(back.find("conv/kernel")->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(back.find("bn/gamma")->data, (std::vector<float>{0.5f, -1, 2}));
}

TEST_F(TensorFileTest, HeaderIsStandardSafetensors) {
    const fs::path file = dir / "w.safetensors";
    opgraph::write_tensor_file(file, sample());
    std::ifstream in(file, std::ios::binary);
    std::uint64_t length = 0;
    in.read(reinterpret_cast<char*>(&length), sizeof length);
    std::string header(length, '\0');
    in.read(header.data(), static_cast<std::streamsize>(length));
    EXPECT_EQ(length % 8, 0u);
    EXPECT_NE(
        header.find(R"("conv/kernel":{"dtype":"F32","shape":[2,1,1,3],"data_offsets":[0,24]})"),
        std::string::npos)
        << header;
    EXPECT_EQ(fs::file_size(file), 8 + length + 9 * sizeof(float));
}

TEST_F(TensorFileTest, FailedWriteKeepsThePreviousFile) {
    const fs::path file = dir / "w.safetensors";
    opgraph::write_tensor_file(file, sample());
    opgraph::TensorFile bad = sample();
    bad.tensors[0].data.pop_back();  // 5 values for 6 elements
    EXPECT_THROW(opgraph::write_tensor_file(file, bad), opgraph::CheckpointError);
    EXPECT_EQ(opgraph::read_tensor_file(file).find("conv/kernel")->data.size(), 6u);
    EXPECT_THROW(opgraph::write_tensor_file(dir / "missing" / "w.safetensors", sample()),
                 opgraph::CheckpointError);
    // No temporary file is left behind.
    int files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, 1);
}

TEST_F(TensorFileTest, TooShort) {
    std::ofstream(dir / "short") << "abc";
    EXPECT_NE(refused(dir / "short").find("too short"), std::string::npos);
}

TEST_F(TensorFileTest, HeaderLengthBeyondTheFile) {
    const std::string message = refused(raw("huge", "{}", 0, std::uint64_t{1} << 40));
    EXPECT_NE(message.find("header length"), std::string::npos) << message;
}

TEST_F(TensorFileTest, HeaderNotJson) {
    const std::string message = refused(raw("notjson", "{\"a\": [1, 2", 0));
    EXPECT_NE(message.find("not JSON"), std::string::npos) << message;
}

TEST_F(TensorFileTest, OffsetsOutsideTheData) {
    const std::string message =
        refused(raw("offsets", R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
    EXPECT_NE(message.find("data_offsets"), std::string::npos) << message;
}

TEST_F(TensorFileTest, ShapeClaimingBillionsOfElements) {
    const std::string message = refused(
        raw("billions",
            R"({"t":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,16]}})", 16));
    EXPECT_NE(message.find("larger than the file"), std::string::npos) << message;
}

TEST_F(TensorFileTest, OtherDtype) {
    const std::string message =
        refused(raw("f16", R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4));
    EXPECT_NE(message.find("only F32"), std::string::npos) << message;
}

TEST_F(TensorFileTest, MissingField) {
    const std::string message = refused(raw("nofield", R"({"t":{"dtype":"F32","shape":[1]}})", 4));
    EXPECT_NE(message.find("malformed header"), std::string::npos) << message;
}

TEST_F(TensorFileTest, OverlappingTensors) {
    const std::string message = refused(raw(
        "overlap",
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        12));
    EXPECT_NE(message.find("overlap"), std::string::npos) << message;
}

}  // namespace
