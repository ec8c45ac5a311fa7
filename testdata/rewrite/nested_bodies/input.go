package nested

import "errors"

func Save(data []byte) error {
	// gofail: var saveError string
	// if saveError != "" {
	//	for i := 0; i < 2; i++ {
	//		if i == 1 {
	//			return errors.New(saveError)
	//		}
	//	}
	// }
	_ = data
	return nil
}
